"""Forgot password: one answer for every entry, a one-hour one-time link by mail, password
rules, other sessions ended, a notice to the account's address."""

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from cession_app.accounts import operations
from cession_app.extensions import db
from cession_app.models import AuditEvent
from tests.conftest import login
from tests.lifecycle_helpers import deliver, outbox, text_of

ANSWER = "If an account with these details exists, we have sent a link"
RESET_LINK = re.compile(r"http://cession\.test(/password/reset/[A-Za-z0-9_.\-]+)")
NEW = "a fresh long secret"


def _ask(client, identifier):
    return client.post("/password/forgot", data={"identifier": identifier}, follow_redirects=True)


def _link(smtp, email):
    for message in reversed(smtp.to(email)):
        found = RESET_LINK.search(text_of(message))
        if found:
            return found.group(1)
    raise AssertionError(f"no reset link was mailed to {email}")


def _set(client, path, password=NEW, confirm=None):
    data = {"password": password, "confirm": confirm or password}
    return client.post(path, data=data)


@pytest.fixture
def novak(make):
    return make.account("novak", email="jan@novak.example", language="cs")


def test_the_log_in_page_links_to_forgot_password(client):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("entry", ["novak", "jan@novak.example", "JAN@novak.example"])
def test_known_and_unknown_entries_get_the_same_answer_and_one_mail(client, novak, smtp, entry):
    known = _ask(client, entry)
    unknown = _ask(client, "nobody@novak.example")
    unknown_name = _ask(client, "nobody")
    for response in (known, unknown, unknown_name):
        assert response.status_code == 200 and ANSWER in response.get_data(as_text=True)
    deliver()
    assert len(smtp.messages) == 1
    (mail,) = smtp.to("jan@novak.example")
    assert "novak" in text_of(mail) and "heslo" in text_of(mail)  # the account's language


def test_unknown_entries_cost_the_same_mail_rendering(client, novak, monkeypatch):
    """Timing must not tell whether an account exists: an unknown entry renders the same
    mail (and throws it away), as a known one renders it for the outbox."""
    from cession_app import mailer

    rendered = []
    real = mailer.render
    monkeypatch.setattr(mailer, "render", lambda *a, **k: rendered.append(a[0]) or real(*a, **k))
    for entry in ("novak", "nobody@novak.example", "nobody"):
        rendered.clear()
        _ask(client, entry)
        assert rendered == ["password_reset"], entry


def test_reset_sets_the_password_ends_sessions_and_tells_the_account(app, client, novak, smtp):
    laptop = app.test_client()
    login(laptop, "novak")
    _ask(client, "novak")
    deliver()
    path = _link(smtp, "jan@novak.example")
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    response = _set(client, path)
    assert response.status_code == 302 and response.location.endswith("/login")
    assert laptop.get("/services/").status_code == 302  # signed out elsewhere
    assert login(client, "novak", NEW).status_code == 302
    deliver()
    notice = smtp.to("jan@novak.example")[-1]
    assert "heslo" in text_of(notice).lower()
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert "password_reset_requested" in events and "password_set" in events


def test_a_reset_link_works_once(client, novak, smtp):
    _ask(client, "novak")
    deliver()
    path = _link(smtp, "jan@novak.example")
    assert _set(client, path).status_code == 302
    again = _set(client, path, "yet another long secret")
    assert again.status_code == 410
    assert login(client, "novak", "yet another long secret").status_code == 200


def test_a_reset_link_dies_when_the_password_changes_otherwise(client, novak, smtp):
    _ask(client, "novak")
    deliver()
    path = _link(smtp, "jan@novak.example")
    novak.set_password("changed by import meanwhile")
    db.session.commit()
    assert client.get(path).status_code == 410


def test_an_expired_reset_link_is_refused(app, client, novak, monkeypatch):
    with monkeypatch.context() as patched:  # signed 61 minutes ago
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3660)
        token = operations.password_token(novak, operations.RESET)
    assert client.get(f"/password/reset/{operations.password_token(novak, 'password-reset')}")
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # tampered signature
        lambda t: "nonsense",
    ],
)
def test_a_tampered_link_is_refused(client, novak, mangle):
    token = operations.password_token(novak, operations.RESET)
    assert client.get(f"/password/reset/{mangle(token)}").status_code == 400


def test_a_link_of_another_purpose_is_refused(client, novak):
    """An invitation token does not open the reset page, nor a confirmation token either."""
    from cession_app import tokens

    invitation = operations.password_token(novak, operations.INVITATION)
    assert client.get(f"/password/reset/{invitation}").status_code == 400
    forged = tokens.make_token("confirm", {"a": novak.id, "f": "x"})
    assert client.get(f"/password/reset/{forged}").status_code == 400


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "The password must have at least 10 characters."),
        ("my novak password", "must not contain your login name or e-mail address"),
        ("jan-jan@novak.example", "must not contain your login name or e-mail address"),
        ("x" * 201, "The password can have at most 200 characters."),
    ],
)
def test_weak_passwords_are_refused(client, novak, password, message):
    path = f"/password/reset/{operations.password_token(novak, operations.RESET)}"
    client.post("/language", data={"language": "en"})
    response = _set(client, path, password)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert login(client, "novak", password).status_code == 200


def test_two_different_passwords_are_refused(client, novak):
    path = f"/password/reset/{operations.password_token(novak, operations.RESET)}"
    client.post("/language", data={"language": "en"})
    response = _set(client, path, NEW, "another long secret")
    assert "The two passwords are not the same." in response.get_data(as_text=True)


def test_mails_per_account_are_limited(client, novak, smtp):
    for _ in range(5):
        assert ANSWER in _ask(client, "novak").get_data(as_text=True)
    assert len(outbox("password_reset")) == 3


def test_requests_per_address_are_limited(client, novak):
    codes = [
        client.post("/password/forgot", data={"identifier": "x"}).status_code for _ in range(6)
    ]
    assert codes[-1] == 429


def test_a_reset_ends_the_session_of_the_browser_that_used_it(client, novak, log_in):
    log_in("novak")
    path = f"/password/reset/{operations.password_token(novak, operations.RESET)}"
    _set(client, path)
    assert client.get("/services/").status_code == 302


def test_a_reset_clears_the_log_in_wait(client, novak):
    for _ in range(5):
        client.post("/login", data={"login": "novak", "password": "wrong"})
    path = f"/password/reset/{operations.password_token(novak, operations.RESET)}"
    _set(client, path)
    assert login(client, "novak", NEW).status_code == 302


def test_expiry_is_one_hour(app, novak):
    assert app.config["PASSWORD_RESET_MINUTES"] == 60
    assert timedelta(minutes=60).total_seconds() == operations._max_age(operations.RESET)
