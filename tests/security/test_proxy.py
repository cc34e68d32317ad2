"""Behind a reverse proxy: with TRUSTED_PROXIES the real client address counts (limits,
audit trail); without it, X-Forwarded-* headers are ignored, so a forged one changes nothing."""

import pytest
from sqlalchemy import select

from cession_app import create_app
from cession_app.extensions import db
from cession_app.models import AuditEvent

PROXY = "127.0.0.1"  # nginx on the same host
ALICE, BOB = "198.51.100.1", "198.51.100.2"


@pytest.fixture
def app_config(app_config):
    """Three failed log-ins a minute per address."""
    app_config["LOGIN_RATE_LIMIT"] = "3 per minute"
    return app_config


def _failed_login(client, forwarded_for=None, remote=PROXY):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/login",
        data={"login": "nobody", "password": "wrong"},
        headers=headers,
        environ_base={"REMOTE_ADDR": remote},
    )


def _login_ips():
    return db.session.scalars(select(AuditEvent.ip).filter_by(action="login")).all()


@pytest.fixture
def behind_proxy(app_config):
    """TRUSTED_PROXIES=1, as behind one nginx."""
    app_config["TRUSTED_PROXIES"] = 1
    return app_config


def test_two_clients_behind_one_proxy_have_separate_log_in_limits(behind_proxy, app):
    client = app.test_client()
    for _ in range(3):
        assert _failed_login(client, ALICE).status_code == 200
    assert _failed_login(client, ALICE).status_code == 429  # Alice is slowed down ...
    assert _failed_login(client, BOB).status_code == 200  # ... Bob is not


def test_without_the_setting_a_forged_forwarded_for_changes_nothing(app):
    client = app.test_client()
    for n in range(3):
        assert _failed_login(client, f"203.0.113.{n}").status_code == 200
    # A new forged address each time does not buy new attempts.
    assert _failed_login(client, "203.0.113.99").status_code == 429
    assert _failed_login(client).status_code == 429


def test_audit_trail_records_the_real_client_behind_the_proxy(behind_proxy, app, make):
    make.account("jan")
    client = app.test_client()
    response = client.post(
        "/login",
        data={"login": "jan", "password": make.PASSWORD},
        headers={"X-Forwarded-For": ALICE},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert response.status_code == 302
    assert _login_ips() == [ALICE]


def test_audit_trail_ignores_a_forged_forwarded_for_without_the_setting(app, make):
    make.account("jan")
    response = app.test_client().post(
        "/login",
        data={"login": "jan", "password": make.PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.66"},
        environ_base={"REMOTE_ADDR": BOB},
    )
    assert response.status_code == 302
    assert _login_ips() == [BOB]


def test_only_the_trusted_hops_are_believed(behind_proxy, app, make):
    """A client that sends its own X-Forwarded-For gets it prepended by nginx: the address
    nginx added (the last one) counts, the forged one before it does not."""
    make.account("jan")
    response = app.test_client().post(
        "/login",
        data={"login": "jan", "password": make.PASSWORD},
        headers={"X-Forwarded-For": f"203.0.113.66, {ALICE}"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert response.status_code == 302
    assert _login_ips() == [ALICE]


def test_https_at_the_proxy_is_seen_with_the_setting(behind_proxy, app):
    client = app.test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in response.headers.get("Strict-Transport-Security", "")


def test_a_negative_number_of_proxies_is_refused(app_config):
    app_config["TRUSTED_PROXIES"] = -1
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        create_app(app_config)
