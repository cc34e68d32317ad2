"""API keys: made once and shown once, stored as a digest, with scopes and a rate limit."""

import hashlib
import secrets
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from limits import parse
from sqlalchemy import select

from .. import audit
from ..extensions import db, limiter
from ..i18n import lazy_gettext as _l
from ..models import ApiKey
from ..models.api import SCOPES
from ..models.base import utcnow
from .problems import ApiProblem

KEY_PREFIX = "cess_"
LAST_USED_EVERY = timedelta(minutes=1)  # fewer writes: last use to the minute


class KeyRefused(ValueError):
    """A key cannot be created as asked (the message says why, in English: CLI)."""


def digest(secret):
    """The stored form of a key (SHA-256: keys are long random strings, not passwords)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(name, scopes, account=None, actor=None):
    """A new key: (ApiKey added to the session, the secret to show once). Caller commits."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise KeyRefused(f"scopes must be some of {', '.join(SCOPES)}, not {unknown or 'none'}")
    if account is not None and "sync" in scopes:
        raise KeyRefused("the sync scope changes every account: only a reseller key has it")
    if not name.strip() or len(name) > 100:
        raise KeyRefused("the name must be 1 to 100 characters")
    random_part = secrets.token_urlsafe(32)
    secret = KEY_PREFIX + random_part
    key = ApiKey(
        name=name.strip(),
        prefix=secret[:12],
        digest=digest(secret),
        scopes=",".join(scopes),
        account_id=getattr(account, "id", None),
    )
    db.session.add(key)
    audit.record(
        "api_key_created", "api_key", key.prefix, actor=actor, name=key.name, scopes=key.scopes
    )
    return key, secret


def revoke_key(key, actor=None):
    """Revoke ``key`` (it stops working at once). Caller commits."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record("api_key_revoked", "api_key", key.prefix, actor=actor, name=key.name)


def _bearer():
    header = request.headers.get("Authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise ApiProblem(
            401,
            "no_key",
            _l("Send an API key in the header Authorization: Bearer <key>."),
            headers={"WWW-Authenticate": 'Bearer realm="cession"'},
        )
    return value.strip()


def _key_from_request():
    secret = _bearer()
    key = db.session.scalar(select(ApiKey).where(ApiKey.digest == digest(secret)))
    if key is None:
        raise ApiProblem(
            401,
            "bad_key",
            _l("This API key is not known. Check that it was copied whole."),
            headers={"WWW-Authenticate": 'Bearer realm="cession", error="invalid_token"'},
        )
    if key.revoked_at is not None:
        raise ApiProblem(
            401,
            "revoked_key",
            _l("This API key has been revoked. Ask the administrator for a new one."),
            headers={"WWW-Authenticate": 'Bearer realm="cession", error="invalid_token"'},
        )
    return key


def _rate_limit(key):
    item = parse(current_app.config["API_RATE_LIMIT"])
    if not limiter.limiter.hit(item, "api-key", str(key.id)):
        raise ApiProblem(429, "rate_limited", headers={"Retry-After": str(item.get_expiry())})


def _touch(key):
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        key.last_used_at = now
        db.session.commit()


def require(scope):
    """The view needs a valid key with ``scope``; the key is ``g.api_key``."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = _key_from_request()
            if scope not in key.scope_list:
                raise ApiProblem(
                    403,
                    "missing_scope",
                    _l("This API key lacks the scope %(scope)s.", scope=scope),
                )
            if current_app.config.get("RATELIMIT_ENABLED", True):
                _rate_limit(key)
            _touch(key)
            g.api_key = key
            audit.set_channel("api")
            return view(*args, **kwargs)

        wrapper.api_scope = scope
        return wrapper

    return decorator


def reseller_only():
    """Refuse a key bound to one account (sync changes every account)."""
    if g.api_key.account_id is not None:
        raise ApiProblem(
            403,
            "account_key",
            _l("This API key belongs to one customer account and cannot do this."),
        )
