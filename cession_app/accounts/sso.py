"""Sign-in from the reseller's billing panel: a short-lived link signed with a shared secret.

The panel links to ``/sso?account=CODE&ts=UNIX_TIME&nonce=RANDOM&sig=HEX[&next=/path]``
where ``sig`` is HMAC-SHA256, keyed with SSO_SECRET, over ``CODE:TS:NONCE`` in hex. A link
is valid for SSO_MAX_AGE seconds (60), each nonce works once, ``next`` leads only to a path
of this app, and staff accounts cannot sign in this way. Off while SSO_SECRET is empty.
"""

import hashlib
import hmac
import re
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Account, SsoNonce
from ..models.base import utcnow

NONCE = re.compile(r"[A-Za-z0-9_\-]{16,128}")
# Clocks of the panel and this server may differ a little.
CLOCK_SKEW = 10


class SsoRefused(Exception):
    """A sign-in link that cannot be used; ``reason`` for the log and tests."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def enabled():
    """Whether sign-in links are accepted (SSO_SECRET is set)."""
    return bool(current_app.config.get("SSO_SECRET"))


def signature(secret, account, ts, nonce):
    """The hex HMAC-SHA256 of ``account:ts:nonce`` keyed with ``secret``."""
    message = f"{account}:{ts}:{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _checked_time(raw, now):
    if not (raw or "").isdigit() or len(raw) > 12:
        raise SsoRefused("bad timestamp")
    age = now - int(raw)
    if age > current_app.config["SSO_MAX_AGE"] or age < -CLOCK_SKEW:
        raise SsoRefused("expired")
    return int(raw)


def _use_nonce(nonce):
    """Record the nonce; SsoRefused when it was used before (also by another worker)."""
    keep = timedelta(seconds=current_app.config["SSO_MAX_AGE"] + CLOCK_SKEW + 60)
    db.session.execute(delete(SsoNonce).where(SsoNonce.used_at < utcnow() - keep))
    db.session.add(SsoNonce(nonce=nonce))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SsoRefused("replayed") from None


def check(args, now=None):
    """The account a sign-in link (the request's ``args``) is for, or SsoRefused.

    Records its nonce (caller commits along with the log-in).
    """
    if not enabled():
        raise SsoRefused("disabled")
    code, ts, nonce, sig = (args.get(k, "") for k in ("account", "ts", "nonce", "sig"))
    _checked_time(ts, int(now if now is not None else time.time()))
    if not NONCE.fullmatch(nonce) or not code or len(code) > 64:
        raise SsoRefused("malformed")
    expected = signature(current_app.config["SSO_SECRET"], code, ts, nonce)
    if not hmac.compare_digest(expected, sig.lower()):
        raise SsoRefused("bad signature")
    account = db.session.scalar(select(Account).where(Account.code == code.lower()))
    if account is None:
        raise SsoRefused("unknown account")
    if account.is_staff:
        raise SsoRefused("staff")  # staff sign in with their password (and second factor)
    _use_nonce(nonce)
    return account
