"""Failed log-ins counted per login name in the database (all web workers, any restart).

After LOGIN_FAILURES_ALLOWED failures in a row a login name waits LOGIN_WAIT_SECONDS before
the next try, doubling with each further failure up to LOGIN_WAIT_MAX_SECONDS; a successful
log-in clears the count, and a day without failures forgets it. Names that belong to no
account are counted the same way, so a wait says nothing about whether an account exists.
"""

import hashlib
import math
import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, select, update

from ..extensions import db, dialect_name
from ..models import LoginThrottle
from ..models.base import utcnow

FORGET_AFTER = timedelta(days=1)
_table = LoginThrottle.__table__


def key_for(login_name):
    """The throttle's key of what was typed as the login name: a digest, since people type
    passwords into the name field too, and those must not be stored."""
    name = (login_name or "").strip().lower()
    return hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()


def seconds_to_wait(login_name, now=None):
    """Seconds until ``login_name`` may try again (0: now)."""
    now = now or utcnow()
    until = db.session.scalar(
        select(_table.c.blocked_until).where(_table.c.key == key_for(login_name))
    )
    if until is None or until <= now:
        return 0
    return math.ceil((until - now).total_seconds())


def wait_after(failures):
    """The wait after ``failures`` failures in a row, in seconds (0: none yet)."""
    cfg = current_app.config
    over = failures - cfg["LOGIN_FAILURES_ALLOWED"]
    if over < 0:
        return 0
    return min(cfg["LOGIN_WAIT_MAX_SECONDS"], cfg["LOGIN_WAIT_SECONDS"] * 2 ** min(over, 20))


def _upsert(key, now):
    # Only the dialect in use: importing SQLAlchemy's postgresql package costs a SQLite
    # web worker 2.4 MB.
    if dialect_name() == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stale = _table.c.updated_at < now - FORGET_AFTER

    statement = insert(_table).values(key=key, failures=1, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[_table.c.key],
        set_={
            "failures": case((stale, 1), else_=_table.c.failures + 1),
            "updated_at": now,
        },
    ).returning(_table.c.failures)
    return db.session.execute(statement).scalar_one()


def record_failure(login_name, now=None):
    """Count a failed log-in (atomically, also between workers); returns the wait it causes.

    Commits: the count must stay even when the request fails afterwards.
    """
    now = now or utcnow()
    key = key_for(login_name)
    failures = _upsert(key, now)
    wait = wait_after(failures)
    if wait:
        db.session.execute(
            update(_table)
            .where(_table.c.key == key)
            .values(blocked_until=now + timedelta(seconds=wait))
        )
    if random.random() < 0.01:  # now and then, forget names not tried for a day
        db.session.execute(delete(_table).where(_table.c.updated_at < now - FORGET_AFTER))
    db.session.commit()
    return wait


def clear(login_name):
    """Forget the failures of ``login_name`` (after a successful log-in; caller commits)."""
    db.session.execute(delete(_table).where(_table.c.key == key_for(login_name)))
