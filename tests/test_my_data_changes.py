"""My data: change the password (current one first), change the contact e-mail (confirmed
from the new mailbox, undone from the old one), list sessions and sign them out."""

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from cession_app.accounts import operations
from cession_app.extensions import db
from cession_app.models import AuditEvent
from tests.conftest import login
from tests.factories import PASSWORD
from tests.lifecycle_helpers import deliver, outbox, text_of

NEW = "a much better secret"
CONFIRM = re.compile(r"http://cession\.test(/my-data/email/confirm/[A-Za-z0-9_.\-]+)")
UNDO = re.compile(r"http://cession\.test(/my-data/email/undo/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def novak(make):
    return make.account("novak", email="jan@novak.example")


def _change_password(client, current=PASSWORD, new=NEW, confirm=None):
    data = {"pw-current": current, "pw-password": new, "pw-confirm": confirm or new}
    return client.post("/my-data/password", data=data)


def _actions():
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


# ---------------------------------------------------------------- password
def test_change_password_keeps_this_session_and_ends_the_others(app, client, novak, log_in):
    log_in("novak")
    phone = app.test_client()
    login(phone, "novak")
    response = _change_password(client)
    assert response.status_code == 302
    assert client.get("/my-data").status_code == 200
    assert phone.get("/my-data").status_code == 302
    assert login(app.test_client(), "novak", NEW).status_code == 302
    assert [m.template for m in outbox()] == ["password_changed"]
    assert "password_set" in _actions()


def test_change_password_needs_the_current_one(client, novak, log_in):
    log_in("novak")
    page = _change_password(client, current="wrong").get_data(as_text=True)
    assert "The current password is not correct." in page
    assert login(client, "novak").status_code in (200, 302)
    db.session.refresh(novak)
    assert novak.check_password(PASSWORD)


def test_guessing_the_current_password_is_throttled(client, novak, log_in):
    """A stolen session cannot guess the password through My data faster than at log-in."""
    log_in("novak")
    for _ in range(5):
        _change_password(client, current="guess")
    page = _change_password(client).get_data(as_text=True)
    assert "Please try again in 1 minute." in page
    db.session.refresh(novak)
    assert novak.check_password(PASSWORD)


def test_weak_new_password_is_refused(client, novak, log_in):
    log_in("novak")
    page = _change_password(client, new="novak12345678").get_data(as_text=True)
    assert "must not contain your login name" in page


def test_change_password_needs_log_in(client, novak):
    response = _change_password(client)
    assert response.status_code == 302 and "/login" in response.location


# ---------------------------------------------------------------- e-mail
def _ask_email(client, address, current=PASSWORD):
    return client.post("/my-data/email", data={"mail-email": address, "mail-current": current})


def _mailed_link(smtp, address, pattern):
    deliver()
    for message in reversed(smtp.to(address)):
        found = pattern.search(text_of(message))
        if found:
            return found.group(1)
    raise AssertionError(f"no link to {address}")


def test_email_changes_only_when_the_new_address_confirms(client, novak, log_in, smtp):
    log_in("novak")
    assert _ask_email(client, "jan@new.example").status_code == 302
    db.session.refresh(novak)
    assert novak.email == "jan@novak.example"  # not yet
    path = _mailed_link(smtp, "jan@new.example", CONFIRM)
    assert "jan@new.example" in client.get(path).get_data(as_text=True)
    db.session.refresh(novak)
    assert novak.email == "jan@novak.example"  # a GET changes nothing
    assert client.post(path).status_code == 302
    db.session.refresh(novak)
    assert novak.email == "jan@new.example"
    deliver()
    notice = smtp.to("jan@novak.example")
    assert notice and "jan@new.example" in text_of(notice[-1])
    assert client.post(path).status_code == 410  # once
    assert {"email_change_requested", "email_changed"} <= set(_actions())


def test_undo_from_the_old_address_restores_it_and_signs_out(app, client, novak, log_in, smtp):
    log_in("novak")
    _ask_email(client, "attacker@evil.example")
    client.post(_mailed_link(smtp, "attacker@evil.example", CONFIRM))
    undo = _mailed_link(smtp, "jan@novak.example", UNDO)
    victim = app.test_client()
    assert victim.post(undo).status_code == 302
    db.session.refresh(novak)
    assert novak.email == "jan@novak.example"
    assert client.get("/my-data").status_code == 302  # the session that changed it ended
    assert victim.post(undo).status_code == 410
    assert "email_change_undone" in _actions()


def test_the_undo_link_lives_seven_days(client, novak, monkeypatch):
    operations.apply_email_change(novak, "jan@new.example")
    db.session.commit()
    for days, status in ((6, 200), (8, 410)):
        with monkeypatch.context() as patched:
            then = int(time.time()) - days * 86400
            patched.setattr(TimestampSigner, "get_timestamp", lambda self, t=then: t)
            from cession_app import tokens

            token = tokens.make_token(
                operations.EMAIL_UNDO,
                {
                    "a": novak.id,
                    "o": "jan@novak.example",
                    "f": tokens.fingerprint(novak.id, "jan@new.example"),
                },
            )
        assert client.get(f"/my-data/email/undo/{token}").status_code == status


def test_a_confirmation_link_dies_when_the_address_changed_meanwhile(client, novak, log_in, smtp):
    log_in("novak")
    _ask_email(client, "first@new.example")
    _ask_email(client, "second@new.example")
    first = _mailed_link(smtp, "first@new.example", CONFIRM)
    second = _mailed_link(smtp, "second@new.example", CONFIRM)
    client.post(second)
    assert client.post(first).status_code == 410
    db.session.refresh(novak)
    assert novak.email == "second@new.example"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("jürgen@example.com", "accented or non-Latin letters"),
        ("a@b.example\r\nBcc: x@evil.example", "line breaks"),
        ("not an address", "Please enter a valid e-mail address."),
        ("jan@novak.example", "This is your contact e-mail already."),
    ],
)
def test_bad_new_addresses_are_refused(client, novak, log_in, address, message):
    log_in("novak")
    page = _ask_email(client, address).get_data(as_text=True)
    assert message in page
    assert outbox() == []


def test_email_change_needs_the_current_password(client, novak, log_in):
    log_in("novak")
    page = _ask_email(client, "jan@new.example", current="wrong").get_data(as_text=True)
    assert "The current password is not correct." in page
    assert outbox() == []


def test_a_tampered_confirmation_link_is_refused(client, novak, log_in, smtp):
    log_in("novak")
    _ask_email(client, "jan@new.example")
    path = _mailed_link(smtp, "jan@new.example", CONFIRM)
    assert client.post(path[:-3] + "abc").status_code == 400


def test_new_links_of_open_requests_go_to_the_new_address(client, make, novak, smtp):
    from tests.lifecycle_helpers import push

    eva = make.account("eva")
    request = push(make, eva, novak, make.service(eva, domain="eva.cz"))
    db.session.commit()
    operations.apply_email_change(novak, "jan@new.example")
    db.session.commit()
    from cession_app.transfers import operations as transfers

    transfers.queue_confirmation(request, request.party_for(novak.id))
    db.session.commit()
    assert outbox("confirm_request")[-1].recipient == "jan@new.example"


# ---------------------------------------------------------------- sessions
def test_sessions_are_listed_and_one_can_be_signed_out(app, client, novak, log_in):
    log_in("novak")
    phone = app.test_client()
    phone.post(
        "/login",
        data={"login": "novak", "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile Safari/537"},
    )
    page = client.get("/my-data").get_data(as_text=True)
    assert "Chrome on Android" in page and "this browser" in page
    (other_id,) = re.findall(r"/my-data/sessions/(\d+)/end", page)
    assert client.post(f"/my-data/sessions/{other_id}/end").status_code == 302
    assert phone.get("/my-data").status_code == 302
    assert client.get("/my-data").status_code == 200


def test_sign_out_everywhere_else(app, client, novak, log_in):
    log_in("novak")
    others = [app.test_client() for _ in range(2)]
    for other in others:
        login(other, "novak")
    client.post("/my-data/sessions/end-others", follow_redirects=True)
    assert all(other.get("/my-data").status_code == 302 for other in others)
    assert client.get("/my-data").status_code == 200
    assert "sessions_ended" in _actions()


def test_another_accounts_session_cannot_be_ended(app, client, make, novak, log_in):
    make.account("eva")
    eva = app.test_client()
    login(eva, "eva")
    from cession_app.models import AccountSession

    eva_session = db.session.scalar(select(AccountSession).order_by(AccountSession.id.desc()))
    log_in("novak")
    client.post(f"/my-data/sessions/{eva_session.id}/end")
    assert eva.get("/my-data").status_code == 200


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit Chrome/130 Safari/537 Edg/130",
            ("Edge", "Windows"),
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604", ("Safari", "iOS")),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko Firefox/140.0", ("Firefox", "Linux")),
        ("", (None, None)),
    ],
)
def test_devices_are_named_from_the_user_agent(agent, expected):
    from cession_app.accounts import sessions

    assert sessions.device(agent) == expected
