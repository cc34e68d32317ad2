"""Log in and out, the header, "My data"."""

import pytest

from cession_app import create_app
from cession_app.models import AuditEvent
from tests.conftest import login


def test_login_shows_name_and_code_next_to_logout(client, make):
    acc = make.account("novak", name="Jan Novák", code="egeelhil8")
    response = login(client, "novak")
    assert response.status_code == 302
    page = client.get("/services/").get_data(as_text=True)
    assert "Jan Novák" in page and "(egeelhil8)" in page
    assert "Log out" in page
    assert acc.id


def test_wrong_password_is_refused_with_a_message(client, make):
    make.account("novak")
    response = client.post("/login", data={"login": "novak", "password": "nope"})
    assert response.status_code == 200
    assert "The login name or password is not correct." in response.get_data(as_text=True)
    assert client.get("/services/").status_code == 302


def test_login_attempts_are_rate_limited(client, make):
    make.account("novak")
    codes = [
        client.post("/login", data={"login": "novak", "password": "x"}).status_code
        for _ in range(12)
    ]
    assert codes[-1] == 429


def test_logout_needs_post(client, make, log_in):
    make.account("novak")
    log_in("novak")
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/services/").status_code == 302


def test_my_data_shows_identifiers_and_saves_preferences(client, make, log_in):
    make.account("novak", code="egeelhil8", number="100234", email="jan@novak.example")
    log_in("novak")
    page = client.get("/my-data").get_data(as_text=True)
    for text in ("egeelhil8", "100234", "novak", "jan@novak.example"):
        assert text in page
    response = client.post("/my-data", data={"language": "cs", "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    page = client.get("/my-data").get_data(as_text=True)
    assert 'lang="cs"' in page
    assert 'selected value="Europe/Berlin"' in page


def test_bad_preference_changes_nothing(client, make, log_in, app):
    acc = make.account("novak")
    log_in("novak")
    client.post("/my-data", data={"language": "xx", "timezone": "Mars/Olympus"})
    from cession_app.extensions import db

    db.session.refresh(acc)
    assert acc.language == "en" and acc.timezone == "Europe/Prague"


def test_login_is_audited(client, make, app):
    make.account("novak")
    login(client, "novak")
    from cession_app.extensions import db

    assert db.session.query(AuditEvent).filter_by(action="login").count() == 1


def test_session_cookie_flags(client, make):
    make.account("novak")
    response = login(client, "novak")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_app_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": None})


def test_secure_cookie_when_base_url_is_https(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "BASE_URL": "https://panel.example",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "This page does not exist" in response.get_data(as_text=True)
