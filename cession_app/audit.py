"""Record audit events in the caller's transaction: who, what, how and from where.

The one source of the history a party sees, the staff timeline, the API's events feed and
the webhooks. ``channel`` says how the change came: ``panel`` (a logged-in page), ``link``
(a signed link from a mail), ``staff``, ``api``, ``worker``, ``cli`` or ``system``. A route
or command calls ``set_channel`` when it is not the default for its context.
"""

from datetime import datetime
from typing import NamedTuple

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm.util import identity_key

from . import bulk
from .extensions import db, dialect_name
from .models import Account, AuditEvent
from .models.accounts import accounts_by_id
from .models.base import utcnow

USER_AGENT_MAX = 300


def set_channel(channel):
    """Say how the changes of this request (or of this command or worker pass) come."""
    if has_request_context():
        request.audit_channel = channel
    else:
        g.audit_channel = channel


def current_channel():
    """How the change being recorded came: as set, else panel (web) or system."""
    if has_request_context():
        return getattr(request, "audit_channel", None) or "panel"
    return (g.get("audit_channel") if has_app_context() else None) or "system"


def record(action, object_type, object_id, actor=None, channel=None, **details):
    """Add an audit event to the current session (committed with the change it records)."""
    ip = user_agent = None
    if has_request_context():
        ip = request.remote_addr
        user_agent = (request.headers.get("User-Agent") or "")[:USER_AGENT_MAX] or None
    event = AuditEvent(
        actor_id=getattr(actor, "id", actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        channel=channel or current_channel(),
        ip=ip,
        user_agent=user_agent,
        details=details,
    )
    db.session.add(event)
    from .webhooks import operations as webhooks  # deliveries go in this same transaction

    webhooks.queue(event)
    return event


def record_many(events):
    """Write several events with one INSERT (the executor's batch), and their webhook
    deliveries with one more, reading the endpoints once (caller commits).

    ``events``: (action, object_type, object_id, details, when) tuples, without an actor.
    """
    from .webhooks import operations as webhooks

    channel = current_channel()
    rows = [
        {
            "actor_id": None,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "channel": channel,
            "ip": None,
            "user_agent": None,
            "details": details,
            "created_at": when or utcnow(),
        }
        for action, object_type, object_id, details, when in events
    ]
    if not rows:
        return
    endpoints = webhooks.enabled_endpoints()
    actions = [row["action"] for row in rows]
    table = AuditEvent.__table__
    if not any(webhooks.wanting(action, endpoints) for action in set(actions)):
        bulk.insert_rows(table, rows)
        return
    # The deliveries name their events, so the ids come back, in the order of the rows:
    # PostgreSQL keeps it (sort_by_parameter_order); SQLite (for which SQLAlchemy would keep
    # it by inserting row by row) numbers the rows of an INSERT one after the other in their
    # order, the writer alone, so the ids sorted are in that order too.
    sqlite = dialect_name() == "sqlite"
    written = insert(table).returning(table.c.id, sort_by_parameter_order=not sqlite)
    ids = sorted(db.session.scalars(written, rows))
    webhooks.queue_batch(zip(ids, actions, strict=True), endpoints)


class HistoryEvent(NamedTuple):
    """One event of a history, as read (its columns and its actor): for pages, not changes."""

    id: int
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    created_at: datetime
    channel: str
    ip: str | None
    user_agent: str | None
    details: dict
    actor: Account | None


def events_of(object_type, object_id, known=None):
    """Every event of one object (with its actor), the oldest first: its history.

    Plain rows, not ORM objects: a history is only shown, and the ORM's loading costs about
    80 Python calls per page and 18 per event more. The actors are accounts, mostly the
    parties a page has already read: ``known`` ({id: account}) or the session's identity map.
    """
    session = db.session()
    session.flush()  # as the ORM's autoflush would (a no-op on a page that changed nothing)
    values = {"object_type": object_type, "object_id": str(object_id)}
    rows = session.execute(_HISTORY, values).all()
    actors = _actors({row.actor_id for row in rows if row.actor_id is not None}, known or {})
    return [HistoryEvent(*row, actors.get(row.actor_id)) for row in rows]


# Built once: its SQL is compiled and cached once too. Columns in HistoryEvent's order.
_TABLE = AuditEvent.__table__
_HISTORY = (
    select(*(_TABLE.c[name] for name in HistoryEvent._fields[:-1]))
    .where(
        _TABLE.c.object_type == bindparam("object_type"),
        _TABLE.c.object_id == bindparam("object_id"),
    )
    .order_by(_TABLE.c.created_at, _TABLE.c.id)
)


def _actors(ids, known):
    """{id: Account} of the events' actors: those ``known`` or the session holds, the others
    read in one statement (or none)."""
    if not ids:
        return {}
    session = db.session()
    held = session.identity_map
    found = {}
    for account_id in ids:
        account = known.get(account_id) or held.get(identity_key(Account, account_id))
        if account is not None:
            found[account_id] = account
    missing = ids - found.keys()
    if missing:
        found.update(accounts_by_id(missing))
    return found
