"""Failed log-ins are throttled per login name in the database: across web workers and
restarts, with a message saying how long to wait; the per-address limit stays."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cession_app import create_app, security
from cession_app.extensions import db
from cession_app.models import LoginThrottle
from tests.conftest import login

WAIT = "Too many failed log-ins with this login name"


def _fail(client, name="novak"):
    return client.post("/login", data={"login": name, "password": "wrong password"})


@pytest.fixture
def second_worker(app_config):
    """Another web worker (another app) on the same database."""
    other = create_app(dict(app_config))
    yield other.test_client()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_after_five_failures_the_next_try_waits_even_with_the_right_password(client, make):
    make.account("novak")
    for _ in range(4):
        assert WAIT not in _fail(client).get_data(as_text=True)
    assert WAIT in _fail(client).get_data(as_text=True)  # the fifth says it at once
    response = login(client, "novak")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Please try again in 1 minute." in page
    assert client.get("/services/").status_code == 302


def test_the_count_is_shared_by_workers_and_survives_a_restart(client, make, second_worker):
    make.account("novak")
    for _ in range(3):
        _fail(client)
    for _ in range(2):
        _fail(second_worker)  # another worker (or the app after a restart) counts on
    assert login(client, "novak").status_code == 429
    assert login(second_worker, "novak").status_code == 429


def test_the_wait_doubles_and_a_success_afterwards_clears_the_count(app, client, make):
    make.account("novak")
    for _ in range(5):
        _fail(client)
    _fail(client)  # refused unchecked while waiting: not counted
    row = db.session.scalar(select(LoginThrottle))
    assert row.failures == 5
    assert row.blocked_until - row.updated_at == timedelta(seconds=60)
    _pass_the_wait(row)
    assert "try again in 2 minutes" in _fail(client).get_data(as_text=True)
    db.session.refresh(row)
    assert row.blocked_until - row.updated_at == timedelta(seconds=120)
    _pass_the_wait(row)
    assert login(client, "novak").status_code == 302
    assert db.session.scalar(select(LoginThrottle)) is None


def _pass_the_wait(row):
    db.session.execute(update(LoginThrottle).values(blocked_until=row.updated_at))
    db.session.commit()


def test_unknown_names_wait_alike_so_the_wait_reveals_nothing(client, make):
    make.account("novak")
    for name in ("novak", "nobody"):
        for _ in range(4):
            _fail(client, name)
        page = _fail(client, name).get_data(as_text=True)
        assert "Please try again in 1 minute." in page


def test_name_and_typed_passwords_are_not_stored(client, make):
    _fail(client, "my secret password")
    key = db.session.scalar(select(LoginThrottle.key))
    assert "secret" not in key and len(key) == 64


def test_translated_wait_message(client, make):
    make.account("novak", language="de")
    client.post("/language", data={"language": "de"})
    for _ in range(4):
        _fail(client)
    page = _fail(client).get_data(as_text=True)
    assert "Bitte versuchen Sie es in 1 Minute erneut." in page


@pytest.mark.parametrize(
    ("environ", "argv", "workers"),
    [
        ({}, ["pytest"], 1),
        ({"WEB_CONCURRENCY": "4"}, ["pytest"], 4),
        ({}, ["/venv/bin/gunicorn", "--workers", "3", "wsgi:app"], 3),
        ({}, ["/venv/bin/gunicorn", "-w2", "wsgi:app"], 2),
        ({"GUNICORN_CMD_ARGS": "--workers=5"}, ["gunicorn"], 5),
        ({"WEB_CONCURRENCY": "many"}, ["pytest"], 1),
    ],
)
def test_web_workers_are_read_from_gunicorn_settings(environ, argv, workers):
    assert security.configured_web_workers(environ, argv) == workers


def test_memory_storage_with_several_workers_warns(app_config, monkeypatch, caplog):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    create_app(dict(app_config))
    assert "RATELIMIT_STORAGE_URI is memory:// with 2 web workers" in caplog.text
    shared = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}
    assert not security.warn_about_limit_storage(shared, workers=4)
    assert not security.warn_about_limit_storage({"RATELIMIT_STORAGE_URI": "memory://"}, 1)


def test_a_limit_on_every_page_still_applies(app, app_config):
    """Pages without a limit of their own skip Flask-Limiter's check only while no limit
    covers the whole app (here another app on the same database has one)."""
    from cession_app.extensions import limiter

    other = create_app({**app_config, "RATELIMIT_DEFAULT": "2 per minute"})
    try:
        client = other.test_client()
        assert [client.get("/").status_code for _ in range(3)] == [302, 302, 429]
        # a page with a limit on its form (POST) only: its GET too
        assert [client.get("/password/forgot").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        limiter.limit_manager.set_default_limits([])  # the limiter outlives this app
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
