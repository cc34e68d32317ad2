"""Sign-in from the reseller's panel: HMAC-SHA256 over code, time and nonce, 60 seconds,
each nonce once, ``next`` only to this app's paths, never for staff, off unless set."""

import secrets
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from cession_app.accounts.sso import signature
from cession_app.extensions import db
from cession_app.models import AuditEvent

SECRET = "shared-with-the-billing-panel"


@pytest.fixture
def app_config(app_config):
    app_config["SSO_SECRET"] = SECRET
    return app_config


def sso_link(code, ts=None, nonce=None, secret=SECRET, **extra):
    ts = str(int(time.time()) if ts is None else ts)
    nonce = nonce or secrets.token_urlsafe(16)
    query = {"account": code, "ts": ts, "nonce": nonce, "sig": signature(secret, code, ts, nonce)}
    return "/sso?" + urlencode({**query, **extra})


@pytest.fixture
def novak(make):
    return make.account("novak", code="egeelhil8")


def _signed_in(client):
    return client.get("/my-data").status_code == 200


def test_a_valid_link_signs_in_and_goes_to_next(client, novak):
    response = client.get(sso_link("egeelhil8", next="/transfers/"))
    assert response.status_code == 302 and response.location == "/transfers/"
    assert _signed_in(client)
    event = db.session.scalar(select(AuditEvent).filter_by(action="login"))
    assert event.details["method"] == "sso" and event.actor_id == novak.id


def test_without_next_it_goes_to_my_services(client, novak):
    assert client.get(sso_link("egeelhil8")).location == "/services/"


def test_an_expired_link_is_refused(client, novak):
    response = client.get(sso_link("egeelhil8", ts=int(time.time()) - 61))
    assert response.status_code == 403 and not _signed_in(client)


def test_a_link_from_the_future_is_refused(client, novak):
    assert client.get(sso_link("egeelhil8", ts=int(time.time()) + 3600)).status_code == 403


def test_a_replayed_link_is_refused(app, client, novak):
    link = sso_link("egeelhil8")
    assert client.get(link).status_code == 302
    thief = app.test_client()
    assert thief.get(link).status_code == 403 and not _signed_in(thief)


def test_a_wrong_signature_is_refused(client, novak):
    assert client.get(sso_link("egeelhil8", secret="guessed")).status_code == 403
    assert not _signed_in(client)


def test_the_signature_covers_the_account(client, novak, make):
    make.account("eva", code="evaevaev1")
    link = sso_link("evaevaev1").replace("account=evaevaev1", "account=egeelhil8")
    assert client.get(link).status_code == 403


def test_a_refused_signature_does_not_use_up_the_nonce(client, novak):
    nonce = secrets.token_urlsafe(16)
    client.get(sso_link("egeelhil8", nonce=nonce, secret="wrong"))
    assert client.get(sso_link("egeelhil8", nonce=nonce)).status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_to_another_host_goes_to_my_services(client, novak, target):
    response = client.get(sso_link("egeelhil8", next=target))
    assert response.status_code == 302 and response.location == "/services/"


@pytest.mark.parametrize(
    "query",
    [
        {"account": "egeelhil8"},
        {"account": "egeelhil8", "ts": "x", "nonce": "a" * 20, "sig": "00"},
        {"account": "egeelhil8", "ts": "1" * 40, "nonce": "a" * 20, "sig": "00"},
        {"account": "egeelhil8", "ts": str(int(time.time())), "nonce": "short", "sig": "00"},
    ],
)
def test_malformed_links_are_refused(client, novak, query):
    assert client.get("/sso?" + urlencode(query)).status_code == 403


def test_unknown_account_is_refused(client, novak):
    assert client.get(sso_link("nosuchcode")).status_code == 403


def test_staff_cannot_sign_in_by_link(client, make):
    make.account("dvorak", code="dvorakst1", staff=True)
    assert client.get(sso_link("dvorakst1")).status_code == 403
    assert not _signed_in(client)


def test_a_link_for_another_account_replaces_the_current_log_in(client, novak, make, log_in):
    make.account("eva", code="evaevaev1")
    log_in("eva")
    assert client.get(sso_link("egeelhil8")).status_code == 302
    assert "egeelhil8" in client.get("/my-data").get_data(as_text=True)


def test_off_unless_configured(app, client, novak):
    app.config["SSO_SECRET"] = ""
    assert client.get(sso_link("egeelhil8")).status_code == 404


def test_the_readme_python_example_makes_a_working_link(client, novak):
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Sign-in from the reseller's panel", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(code, namespace)  # noqa: S102 (our own README)
    link = namespace["cession_link"]("egeelhil8", SECRET, base="")
    response = client.get(link)
    assert response.status_code == 302 and response.location == "/transfers/"
