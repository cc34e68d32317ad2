"""Health and operations: /healthz for monitoring, the worker's heartbeat, ``doctor`` checks."""

import os
import re
import socket
import time
from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import OutboxMessage, WebhookDelivery, WorkerHeartbeat
from .models.base import utcnow

bp = Blueprint("health", __name__)

VERSIONS = Path(__file__).parent / "migrations" / "versions"
HEARTBEAT_EVERY = 15  # seconds between heartbeat writes of one worker
_last_beat = {}  # app -> monotonic time of its last heartbeat write


# ---------------------------------------------------------------- migrations
@cache
def migration_heads():
    """The newest revision(s) of the migration scripts, read from the files (no Alembic)."""
    revisions, parents = set(), set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = re.search(r"^revision = ['\"](\w+)['\"]", source, re.M)
        if found:
            revisions.add(found.group(1))
        down = re.search(r"^down_revision = (.+)$", source, re.M)
        if down:
            parents.update(re.findall(r"['\"](\w+)['\"]", down.group(1)))
    return frozenset(revisions - parents)


def database_revisions():
    """The revisions the database is at (empty when it was never migrated)."""
    try:
        return set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        db.session.rollback()
        return set()


# ---------------------------------------------------------------- the worker's heartbeat
def beat(now=None):
    """Note that this worker made a pass (at most every HEARTBEAT_EVERY seconds; commits)."""
    app_key = id(current_app._get_current_object())
    if time.monotonic() - _last_beat.get(app_key, -HEARTBEAT_EVERY) < HEARTBEAT_EVERY:
        return
    name = f"{socket.gethostname()}:{os.getpid()}"[:100]
    row = db.session.get(WorkerHeartbeat, name) or WorkerHeartbeat(name=name)
    row.beat_at = now or utcnow()
    db.session.add(row)
    db.session.commit()
    _last_beat[app_key] = time.monotonic()


def _age(moment, now):
    return None if moment is None else round((now - moment).total_seconds(), 1)


def status():
    """(healthy, report): database, migrations, worker heartbeat, oldest undelivered work."""
    now = utcnow()
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return False, {"database": "unreachable", "error": type(exc).__name__}
    heads, current = migration_heads(), database_revisions()
    beat_at = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    mail = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
    )
    hook = db.session.scalar(
        select(func.min(WebhookDelivery.created_at)).where(WebhookDelivery.status == "pending")
    )
    report = {
        "database": "ok",
        "migrations": "current" if current == set(heads) else "not current",
        "worker_heartbeat_age": _age(beat_at, now),
        "oldest_undelivered_mail_age": _age(mail, now),
        "oldest_undelivered_webhook_age": _age(hook, now),
    }
    limit = current_app.config["HEALTH_WORKER_MAX_AGE"]
    worker_ok = beat_at is not None and report["worker_heartbeat_age"] <= limit
    report["worker"] = "ok" if worker_ok else "late"
    healthy = report["migrations"] == "current" and worker_ok
    report["status"] = "ok" if healthy else "failing"
    return healthy, report


@bp.get("/healthz")
def healthz():
    """200 with the report when healthy, 503 when not (for monitoring)."""
    healthy, report = status()
    answer = jsonify(report)
    answer.status_code = 200 if healthy else 503
    answer.headers["Cache-Control"] = "no-store"
    return answer


# ---------------------------------------------------------------- doctor
WEAK_SECRETS = {"dev-only-insecure-key", "secret", "changeme", "change-me", "test-secret"}


def _secret_problem(cfg):
    key = cfg.get("SECRET_KEY") or ""
    if key in WEAK_SECRETS or len(key) < 32 or len(set(key)) < 10:
        return (
            "SECRET_KEY is weak: set at least 32 random characters, e.g. the output of"
            " python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return None


def _mail_problem(cfg):
    if not cfg.get("MAIL_SERVER"):
        return "MAIL_SERVER is not set: no mail (confirmation links) can be sent"
    try:
        with socket.create_connection((cfg["MAIL_SERVER"], cfg["MAIL_PORT"]), timeout=5):
            return None
    except OSError as exc:
        return f"the mail server {cfg['MAIL_SERVER']}:{cfg['MAIL_PORT']} is not reachable: {exc}"


def _migration_problem():
    heads, current = migration_heads(), database_revisions()
    if current != set(heads):
        return (
            f"the database is at {sorted(current) or 'no revision'}, the code needs"
            f" {sorted(heads)}: run flask --app cession_app db upgrade"
        )
    return None


def doctor_checks(cfg):
    """[(name, problem or None)] for a production setup."""
    https = cfg["BASE_URL"].startswith("https://")
    storage = cfg.get("RATELIMIT_STORAGE_URI", "memory://")
    return [
        ("SECRET_KEY", _secret_problem(cfg)),
        ("BASE_URL", None if https else f"BASE_URL {cfg['BASE_URL']} is not https://"),
        ("mail server", _mail_problem(cfg)),
        ("database", _migration_problem()),
        (
            "proxy",
            None
            if cfg.get("TRUSTED_PROXIES", 0) > 0
            else "TRUSTED_PROXIES is 0: behind nginx set it to 1, or every client shares"
            " the proxy's address (see README, Running behind nginx)",
        ),
        (
            "rate-limit storage",
            None
            if not storage.startswith("memory://")
            else "RATELIMIT_STORAGE_URI is memory://: each web process counts alone;"
            " use Redis, e.g. redis://127.0.0.1:6379/0",
        ),
        (
            "development mailbox",
            "DEV_MAILBOX is on: turn it off" if cfg.get("DEV_MAILBOX") else None,
        ),
    ]
