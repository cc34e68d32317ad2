"""Attacks on the account pages: forged cross-site posts, links built from a forged Host,
open redirects after log-in, a planted session key, someone else's reset token."""

import re

import pytest
from flask import g, request_started
from sqlalchemy import select

from cession_app.accounts import operations
from cession_app.extensions import db
from cession_app.models import AccountSession, OutboxMessage
from tests.conftest import login
from tests.factories import PASSWORD


@pytest.fixture
def csrf_on(app_config):
    """CSRF protection on, as in production (must come before ``app``/``client``)."""
    app_config["WTF_CSRF_ENABLED"] = True


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/my-data/password", {"pw-current": PASSWORD, "pw-password": "x" * 12}),
        ("/my-data/email", {"mail-email": "a@evil.example", "mail-current": PASSWORD}),
        ("/my-data/sessions/end-others", {}),
        ("/my-data/two-factor/off", {"tfoff-current": PASSWORD, "tfoff-code": "123456"}),
        ("/password/forgot", {"identifier": "novak"}),
    ],
)
def test_cross_site_posts_are_refused(csrf_on, app, client, make, path, data):
    acc = make.account("novak")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"login": "novak", "password": PASSWORD, "csrf_token": token})
    assert client.get("/my-data").status_code == 200
    response = client.post(path, data=data)
    assert response.status_code == 400
    db.session.refresh(acc)
    assert acc.check_password(PASSWORD)
    assert db.session.scalar(select(OutboxMessage)) is None


def test_reset_links_use_base_url_not_the_host_header(client, make):
    make.account("novak")
    client.post(
        "/password/forgot",
        data={"identifier": "novak"},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    message = db.session.scalar(select(OutboxMessage))
    assert "http://cession.test/password/reset/" in message.text_body
    assert "evil.example" not in message.text_body + message.html_body


@pytest.mark.parametrize(
    "target", ["//evil.example", "/\\evil.example", "https://evil.example/", "/%5Cevil.example"]
)
def test_log_in_never_redirects_to_another_host(client, make, target):
    make.account("novak")
    response = client.post(
        "/login?" + "next=" + target, data={"login": "novak", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.location.replace("%5Cevil.example", "")


def test_a_planted_session_key_is_replaced_at_log_in(client, make):
    """Session fixation: a key set before log-in never becomes a live session."""
    make.account("novak")
    with client.session_transaction() as sess:
        sess["sid"] = "planted-by-the-attacker"
    login(client, "novak")
    with client.session_transaction() as sess:
        assert sess["sid"] != "planted-by-the-attacker"
    (row,) = db.session.scalars(select(AccountSession)).all()
    assert row.key_digest != "planted-by-the-attacker"


def test_a_reset_token_of_one_account_cannot_set_anothers_password(client, make):
    novak = make.account("novak")
    eva = make.account("eva")
    token = operations.password_token(novak, operations.RESET)
    client.post(f"/password/reset/{token}", data={"password": "x" * 12, "confirm": "x" * 12})
    db.session.refresh(eva)
    assert eva.check_password(PASSWORD)
    assert login(client, "eva", "x" * 12).status_code == 200


def test_the_account_in_a_reset_link_cannot_be_swapped(client, make):
    """The payload is signed: changing the account id in it breaks the signature."""
    import base64
    import json

    novak = make.account("novak")
    eva = make.account("eva")
    token = operations.password_token(novak, operations.RESET)
    body, _, rest = token.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["a"] = eva.id
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    assert client.get(f"/password/reset/{forged_body}.{rest}").status_code == 400


def _forget_csrf_token(sender, **extra):
    g.pop("csrf_token", None)


def test_with_csrf_on_the_session_buttons_work_with_the_pages_token(csrf_on, app, client, make):
    make.account("novak")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"login": "novak", "password": PASSWORD, "csrf_token": token})
    other = app.test_client()
    # The test keeps one app context (one ``g``) open: forget the first browser's token.
    request_started.connect(_forget_csrf_token, app)
    other_page = other.get("/login").get_data(as_text=True)
    other_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', other_page)
    response = other.post(
        "/login",
        data={"login": "novak", "password": PASSWORD, "csrf_token": other_token.group(1)},
    )
    assert response.status_code == 302
    my_data = client.get("/my-data").get_data(as_text=True)
    form = my_data.split('action="/my-data/sessions/end-others"', 1)[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert my_data.count('id="csrf_token"') <= 2  # the buttons add no duplicate ids
    response = client.post("/my-data/sessions/end-others", data={"csrf_token": token})
    assert response.status_code == 302
    assert other.get("/my-data").status_code == 302
    assert client.get("/my-data").status_code == 200
