"""The one signed-link helper: a salt per purpose, max_age on every load, key rotation.

The serializers are kept per purpose and set of keys, and a token that verified is kept
(its payload and when it was signed) per process by :func:`kept_loads`, which also keeps
``session_cookie``'s cookies: the same link opened again gives a copy of the same payload
after the same age check (by itsdangerous' clock), without decoding and verifying its
signature again (about 130 Python calls). A token that fails is never kept; an expired one
is verified again, and refused.
"""

import copy
import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

KEPT_TOKENS = 4096  # per process; cleared when full


class TokenInvalid(Exception):
    """The token was tampered with, or signed for another purpose or key."""


class TokenExpired(Exception):
    """The token was genuine but is older than allowed."""


def _serializer(purpose):
    cfg = current_app.config
    # itsdangerous signs with the last key and accepts any of them: old keys keep links valid.
    keys = (*cfg.get("SECRET_KEY_FALLBACKS", []), cfg["SECRET_KEY"])
    kept = current_app.extensions.setdefault("cession_token_serializers", {})
    serializer = kept.get((purpose, keys))
    if serializer is None:
        serializer = kept[purpose, keys] = URLSafeTimedSerializer(
            list(keys), salt=f"cession.{purpose}"
        )
    return serializer


def fingerprint(*parts):
    """A short digest of the state a token may change, so that it works once."""
    raw = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def make_token(purpose, payload):
    """Sign ``payload`` (a JSON-able dict) for ``purpose``."""
    return _serializer(purpose).dumps(payload)


def kept_loads(serializer, value, max_age, kept):
    """``serializer.loads(value, max_age=max_age)``, kept: a value that verified before (in
    the dict ``kept``, per process) gives a copy of the same payload after the same age
    check, by itsdangerous' clock, without decoding and verifying its signature again. A
    value that fails is never kept, an expired one is verified again (and raises), and the
    dict is cleared when it holds ``KEPT_TOKENS``. Raises what ``loads`` raises."""
    found = kept.get(value)
    if found is not None and found[0] is serializer:
        age = TimestampSigner.get_timestamp(None) - found[1]  # itsdangerous' clock
        if 0 <= age <= max_age:
            return _copied(found[2])
    payload, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
    if len(kept) >= KEPT_TOKENS:
        kept.clear()
    kept[value] = (serializer, int(signed_at.timestamp()), _copied(payload))
    return payload


# Decoded values that cannot change: kept and handed out as they are. (Flask's session
# serializer also decodes tuples, Markup, UUIDs and datetimes: copied by ``deepcopy``.)
_UNCHANGING = frozenset((str, int, float, bool, type(None), bytes))


def _copied(value):
    """A deep copy of a decoded payload: ``copy.deepcopy``'s result, but its dicts, lists
    and plain values (JSON's) copied without deepcopy's memo and dispatch (about 60 Python
    calls for a payload of a few keys; this takes a few)."""
    kind = type(value)
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    if kind in _UNCHANGING:
        return value
    return copy.deepcopy(value)


def load_token(purpose, token, max_age):
    """Return the payload, or raise TokenExpired / TokenInvalid."""
    verified = current_app.extensions.setdefault("cession_verified_tokens", {})
    try:
        return kept_loads(_serializer(purpose), token, max_age, verified)
    except SignatureExpired as exc:
        raise TokenExpired() from exc
    except BadSignature as exc:
        raise TokenInvalid() from exc
