"""The development mailbox shows every live confirmation link: it exists only when
DEV_MAILBOX says so (``make run``), only with a loopback BASE_URL, only for this machine."""

import re
from pathlib import Path

import pytest

from cession_app import create_app
from cession_app.config import from_environ
from cession_app.extensions import db
from cession_app.models import OutboxMessage
from cession_app.worker import run_once
from tests.conftest import fresh_schema

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "http://127.0.0.1:5000"


def _mail(recipient="jan@example.test"):
    message = OutboxMessage(
        recipient=recipient,
        template="t",
        language="en",
        subject="Please confirm",
        text_body=f"Confirm here: {LOCAL}/transfers/requests/1/respond/abc.def\n",
        html_body='<p style="color:red">Confirm <a href="x">here</a></p>',
    )
    db.session.add(message)
    db.session.commit()
    return message


@pytest.fixture
def mailbox_app(app_config):
    """An app as `make run` starts it: no MAIL_SERVER, the mailbox on, a loopback BASE_URL."""
    app_config.update(MAIL_SERVER="", DEV_MAILBOX=True, BASE_URL=LOCAL)
    app = create_app(app_config)
    with app.app_context():
        fresh_schema()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_mailbox_shows_mails_with_the_development_setting(mailbox_app):
    message = _mail()
    assert run_once()["mails"] == 1
    client = mailbox_app.test_client()
    page = client.get("/dev/mailbox").get_data(as_text=True)
    assert "Please confirm" in page and "jan@example.test" in page
    one = client.get(f"/dev/mailbox/{message.id}").get_data(as_text=True)
    assert f'href="{LOCAL}/transfers/requests/1/respond/abc.def"' in one  # one click away


def test_no_mailbox_without_the_setting_even_without_a_mail_server(app_config):
    app_config["MAIL_SERVER"] = ""
    app = create_app(app_config)
    assert not [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("dev.")]
    with app.app_context():
        fresh_schema()
        assert app.test_client().get("/dev/mailbox").status_code == 404
        db.session.remove()
        db.engine.dispose()


def test_no_mailbox_with_a_mail_server(client):
    assert client.get("/dev/mailbox").status_code == 404


def test_the_setting_is_off_unless_given(monkeypatch):
    assert from_environ({})["DEV_MAILBOX"] is False
    assert from_environ({"DEV_MAILBOX": "1"})["DEV_MAILBOX"] is True


def test_only_make_run_turns_it_on():
    makefile = (ROOT / "Makefile").read_text()
    run = re.search(r"^run:.*?(?=^\S)", makefile, re.M | re.S).group(0)
    assert "DEV_MAILBOX=1" in run
    code = [line for line in makefile.splitlines() if not line.startswith("#")]
    assert sum("DEV_MAILBOX" in line for line in code) == 1  # not in the .env it writes
    for name in ("wsgi.py", ".ci/run"):
        assert "DEV_MAILBOX" not in (ROOT / name).read_text()


@pytest.mark.parametrize(
    "base_url",
    [
        "https://panel.example.com",
        "http://203.0.113.10:5000",
        "http://10.0.0.5",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
    ],
)
def test_app_refuses_to_start_with_the_mailbox_and_a_public_base_url(app_config, base_url):
    app_config.update(MAIL_SERVER="", DEV_MAILBOX=True, BASE_URL=base_url)
    with pytest.raises(RuntimeError, match="DEV_MAILBOX"):
        create_app(app_config)


@pytest.mark.parametrize("base_url", ["http://localhost:5000", "http://[::1]:5000", LOCAL])
def test_loopback_base_urls_may_have_the_mailbox(app_config, base_url):
    app_config.update(MAIL_SERVER="", DEV_MAILBOX=True, BASE_URL=base_url)
    assert "dev.mailbox" in {rule.endpoint for rule in create_app(app_config).url_map.iter_rules()}


@pytest.mark.parametrize("trusted_proxies", [0, 1])
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.7"},
        {"Forwarded": "for=203.0.113.7"},
        {"X-Real-IP": "203.0.113.7"},
    ],
)
def test_mailbox_is_not_reachable_through_a_proxy(app_config, trusted_proxies, headers):
    """nginx on the same host connects from 127.0.0.1 and says who the client is."""
    app_config.update(MAIL_SERVER="", DEV_MAILBOX=True, BASE_URL=LOCAL)
    app_config["TRUSTED_PROXIES"] = trusted_proxies
    app = create_app(app_config)
    with app.app_context():
        fresh_schema()
        message = _mail()
        client = app.test_client()
        for url in (
            "/dev/mailbox",
            f"/dev/mailbox/{message.id}",
            f"/dev/mailbox/{message.id}/html",
        ):
            assert client.get(url, headers=headers).status_code == 404, url
            assert client.get(url).status_code == 200, url  # from this machine itself
        db.session.remove()
        db.engine.dispose()


def test_mailbox_is_not_reachable_from_another_address(mailbox_app):
    remote = mailbox_app.test_client().get("/dev/mailbox", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert remote.status_code == 404


def test_html_part_is_shown_with_its_styles_but_no_script(mailbox_app):
    message = _mail()
    response = mailbox_app.test_client().get(f"/dev/mailbox/{message.id}/html")
    assert response.get_data(as_text=True) == message.html_body
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy
    assert "script" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"
