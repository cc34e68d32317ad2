"""The one signed-link helper: a salt per purpose, max_age on every load, key rotation."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenInvalid(Exception):
    """The token was tampered with, or signed for another purpose or key."""


class TokenExpired(Exception):
    """The token was genuine but is older than allowed."""


def _serializer(purpose):
    cfg = current_app.config
    # itsdangerous signs with the last key and accepts any of them: old keys keep links valid.
    keys = [*cfg.get("SECRET_KEY_FALLBACKS", []), cfg["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=f"cession.{purpose}")


def fingerprint(*parts):
    """A short digest of the state a token may change, so that it works once."""
    raw = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def make_token(purpose, payload):
    """Sign ``payload`` (a JSON-able dict) for ``purpose``."""
    return _serializer(purpose).dumps(payload)


def load_token(purpose, token, max_age):
    """Return the payload, or raise TokenExpired / TokenInvalid."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenExpired() from exc
    except BadSignature as exc:
        raise TokenInvalid() from exc
