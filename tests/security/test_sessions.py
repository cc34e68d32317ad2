"""Sessions end on the server: a session cookie copied before log-out, a password change
(in My data, by a reset or by ``import-data``) no longer signs anyone in."""

import json
import time

from sqlalchemy import select

from cession_app.extensions import db
from cession_app.models import Account, AccountSession
from tests.conftest import login


def _copy_cookie(app, client):
    """A second browser holding a copy of ``client``'s session cookie (the attacker's)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _signed_in(client):
    return client.get("/services/").status_code == 200


def test_a_copied_cookie_works_until_log_out_then_never(app, client, make, log_in):
    make.account("novak")
    log_in("novak")
    thief = _copy_cookie(app, client)
    assert _signed_in(thief)
    client.post("/logout")
    assert not _signed_in(thief)
    assert not _signed_in(client)


def test_log_out_in_one_browser_ends_the_others_too(app, client, make, log_in):
    make.account("novak")
    log_in("novak")
    laptop = app.test_client()
    login(laptop, "novak")
    client.post("/logout")
    assert not _signed_in(laptop)


def test_password_changed_by_import_ends_every_session(app, client, make, log_in, tmp_path):
    make.account("novak", code="novakcod1", number="555", email="jan@novak.example")
    log_in("novak")
    thief = _copy_cookie(app, client)
    account = {
        "code": "novakcod1",
        "number": "555",
        "login": "novak",
        "name": "Jan Novák",
        "email": "jan@novak.example",
        "language": "en",
        "timezone": "Europe/Prague",
        "password": "a brand new secret",
        "billing": {"name": "Jan Novák", "address": "Dlouhá 1", "vat_id": ""},
    }
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"accounts": [account]}))
    result = app.test_cli_runner().invoke(args=["import-data", str(path)])
    assert result.exit_code == 0, result.output
    assert not _signed_in(thief)
    assert not _signed_in(client)
    assert login(client, "novak", "a brand new secret").status_code == 302


def test_reimport_without_a_new_password_keeps_sessions(app, client, make, log_in):
    from cession_app import dataio

    make.account("novak")
    log_in("novak")
    dataio.import_data(dataio.export_data())
    db.session.commit()
    assert _signed_in(client)


def test_cookie_without_a_session_key_is_refused(app, client, make):
    """A cookie forged from the old format (only the account id) signs nobody in."""
    acc = make.account("novak")
    with client.session_transaction() as sess:
        sess["_user_id"] = str(acc.id)
        sess["_fresh"] = True
    assert not _signed_in(client)


def test_session_key_of_another_account_is_refused(app, client, make, log_in):
    """Swapping the account id under a live key (with the secret key) gains nothing."""
    make.account("novak")
    eva = make.account("eva")
    log_in("novak")
    with client.session_transaction() as sess:
        sess["_user_id"] = str(eva.id)
    assert not _signed_in(client)


def test_sessions_are_stored_as_digests_with_device(client, make):
    make.account("novak")
    client.post(
        "/login",
        data={"login": "novak", "password": "correct horse battery"},
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/140.0"},
    )
    row = db.session.scalar(select(AccountSession))
    with client.session_transaction() as sess:
        key = sess["sid"]
    assert key not in row.key_digest and len(row.key_digest) == 64
    assert row.user_agent.startswith("Mozilla/5.0") and row.ip == "127.0.0.1"
    assert row.account_id == db.session.scalar(select(Account.id).filter_by(login="novak"))


def test_a_visitors_session_is_not_sent_again_on_every_page(client):
    """The log-in form's CSRF token is kept in the session; pages after the first leave the
    session as it is (Flask-Login's strong protection guards sessions with an account)."""
    assert "session=" in client.get("/login").headers.get("Set-Cookie", "")
    again = client.get("/login")
    assert again.status_code == 200
    assert again.headers.getlist("Set-Cookie") == []


def test_a_kept_session_cookie_still_ages_and_a_forged_one_is_refused(
    app, client, make, log_in, monkeypatch
):
    """The cookie's content is kept per process after it verified once, not its validity:
    past PERMANENT_SESSION_LIFETIME it is empty, and a changed cookie is checked anew."""
    make.account("novak")
    log_in("novak")
    assert _signed_in(client) and _signed_in(client)  # the second read is the kept one
    value = client.get_cookie("session").value
    forged = app.test_client()
    forged.set_cookie("session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert not _signed_in(forged)
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert not _signed_in(client)
