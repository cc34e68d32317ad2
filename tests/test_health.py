"""/healthz for monitoring and ``flask doctor`` for a production setup."""

from datetime import timedelta

from sqlalchemy import update

from cession_app import health, worker
from cession_app.extensions import db
from cession_app.models import WorkerHeartbeat
from cession_app.models.base import utcnow


def _migrated(runner):
    result = runner.invoke(args=["db", "stamp", "head"])
    assert result.exit_code == 0, result.output


def test_healthz_is_ok_with_a_live_worker_and_current_migrations(client, runner):
    _migrated(runner)
    worker.run_once()
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["migrations"] == "current" and body["worker"] == "ok"
    assert body["worker_heartbeat_age"] < 60
    assert body["oldest_undelivered_mail_age"] is None


def test_healthz_fails_when_the_worker_heartbeat_is_old(client, runner):
    _migrated(runner)
    worker.run_once()
    db.session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["worker"] == "late"


def test_healthz_fails_without_a_worker_or_migrations(client):
    body = client.get("/healthz").get_json()
    assert body["migrations"] == "not current" and body["worker"] == "late"
    assert client.get("/healthz").status_code == 503


def test_healthz_reports_the_oldest_undelivered_mail(client, runner, make):
    from tests.lifecycle_helpers import push

    _migrated(runner)
    novak = make.account("novak")
    push(make, novak, make.account("kowalska"), make.service(novak))
    body = client.get("/healthz").get_json()
    assert body["oldest_undelivered_mail_age"] is not None


def test_migration_heads_are_read_from_the_scripts():
    assert len(health.migration_heads()) == 1


def test_doctor_fails_on_a_weak_secret_and_says_what_to_fix(runner):
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 1
    assert "FAIL  SECRET_KEY: SECRET_KEY is weak" in result.output
    assert "FAIL  BASE_URL" in result.output and "check(s) failed" in result.output


def test_doctor_passes_on_a_good_setup(app, runner):
    _migrated(runner)
    good = dict(
        app.config,
        SECRET_KEY="Zq3v8Hh2kLm9Pp4Rt7Wx1Yb6Nc5Dd0Fg2Jk8Ls",
        BASE_URL="https://panel.example.com",
        TRUSTED_PROXIES=1,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
        DEV_MAILBOX=False,
    )
    problems = [(name, problem) for name, problem in health.doctor_checks(good) if problem]
    assert problems == []
    found = dict(health.doctor_checks(dict(good, MAIL_PORT=1)))
    assert "is not reachable" in found["mail server"]
