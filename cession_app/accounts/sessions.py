"""Sessions kept on the server: started at log-in, checked on every request, ended at will.

The browser's (signed) cookie carries the account id, as Flask-Login keeps it, and a random
session key; the database keeps the key's digest. A cookie whose session was ended (log-out,
a password change or reset, "sign out elsewhere") is refused, even when copied before.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import has_request_context, request, session
from sqlalchemy import bindparam, select, update

from ..extensions import db
from ..models import Account, AccountSession
from ..models.base import utcnow

SESSION_KEY = "sid"
# How often "last seen" is written: not on every request.
TOUCH_EVERY = timedelta(minutes=1)
USER_AGENT_MAX = 300


def digest(key):
    """What the database keeps of a session key."""
    return hashlib.sha256(key.encode()).hexdigest()


def start(account):
    """Record a new session for ``account`` and put its key in the cookie (caller commits)."""
    key = secrets.token_urlsafe(32)
    row = AccountSession(account_id=account.id, key_digest=digest(key))
    if has_request_context():
        row.ip = request.remote_addr
        row.user_agent = (request.headers.get("User-Agent") or "")[:USER_AGENT_MAX] or None
        session[SESSION_KEY] = key
    db.session.add(row)
    return key


def current_key():
    """The session key of this request's cookie, or None."""
    key = session.get(SESSION_KEY) if has_request_context() else None
    return key if isinstance(key, str) else None


# The session check of every page: one statement, built once; the account as an ORM object
# (pages use its relationships), of its session only the two columns the check needs.
_LIVE_SESSION = (
    select(Account, AccountSession.id, AccountSession.last_seen_at)
    .join(AccountSession, AccountSession.account_id == Account.id)
    .where(
        AccountSession.key_digest == bindparam("digest"),
        AccountSession.ended_at.is_(None),
        Account.id == bindparam("account_id"),
    )
)


def load_account(user_id):
    """The account of a live session whose key is in the cookie, or None (signed out)."""
    key = current_key()
    if key is None or not str(user_id).isdigit():
        return None
    row = db.session.execute(
        _LIVE_SESSION, {"digest": digest(key), "account_id": int(user_id)}
    ).first()
    if row is None:
        return None
    account, session_id, last_seen_at = row
    _touch(session_id, last_seen_at)
    return account


def _touch(session_id, last_seen_at):
    now = utcnow()
    if now - last_seen_at < TOUCH_EVERY:
        return
    # Its own short transaction: the request's session may hold changes of its own.
    with db.engine.begin() as connection:
        connection.execute(
            update(AccountSession.__table__)
            .where(AccountSession.__table__.c.id == session_id)
            .values(last_seen_at=now)
        )


def end_current():
    """End this request's session on the server (caller commits); the cookie is dead then."""
    key = current_key()
    if key is not None:
        db.session.execute(
            update(AccountSession)
            .where(AccountSession.key_digest == digest(key), AccountSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    if has_request_context():
        session.pop(SESSION_KEY, None)


def end_all(account, except_key=None):
    """End every live session of ``account`` but the one of ``except_key``; returns how many."""
    query = update(AccountSession).where(
        AccountSession.account_id == account.id, AccountSession.ended_at.is_(None)
    )
    if except_key is not None:
        query = query.where(AccountSession.key_digest != digest(except_key))
    return db.session.execute(query.values(ended_at=utcnow())).rowcount


def end_one(account, session_id):
    """End one session of ``account`` by its id; False when it is not this account's."""
    result = db.session.execute(
        update(AccountSession)
        .where(
            AccountSession.id == session_id,
            AccountSession.account_id == account.id,
            AccountSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
    )
    return result.rowcount == 1


def live_sessions(account):
    """The account's live sessions, the most recently seen first."""
    return db.session.scalars(
        select(AccountSession)
        .where(AccountSession.account_id == account.id, AccountSession.ended_at.is_(None))
        .order_by(AccountSession.last_seen_at.desc(), AccountSession.id.desc())
    ).all()


def is_current(row):
    """Whether ``row`` is this request's session."""
    key = current_key()
    return key is not None and row.key_digest == digest(key)


# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device(user_agent):
    """(browser, system) named from a User-Agent header; None for what is not recognised."""
    user_agent = user_agent or ""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    return browser, system
