"""Password hashes: argon2id (argon2-cffi, OWASP's first choice).

Older scrypt (or pbkdf2) hashes written by Werkzeug are still accepted, and replaced by an
argon2id hash at the next successful log-in (``needs_rehash``). The cost is set by
PASSWORD_HASH_TIME_COST, PASSWORD_HASH_MEMORY_KIB and PASSWORD_HASH_PARALLELISM (tests use
cheap values); a hash made with other values is rehashed the same way.
"""

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from werkzeug.security import check_password_hash

from .config import SETTINGS

ARGON2_PREFIX = "$argon2"


def _cost():
    names = ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM")
    if has_app_context():
        return tuple(current_app.config.get(n, SETTINGS[n][0]) for n in names)
    return tuple(SETTINGS[n][0] for n in names)


@cache
def _hasher_for(time_cost, memory_kib, parallelism):
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher():
    """The argon2id hasher with the configured cost."""
    return _hasher_for(*_cost())


@cache
def _dummy_hash(time_cost, memory_kib, parallelism):
    return _hasher_for(time_cost, memory_kib, parallelism).hash(secrets.token_urlsafe(16))


def dummy_hash():
    """A hash of a random password, checked for unknown log-in names so that they take as
    long as known ones (the answer's time says nothing about which names exist)."""
    return _dummy_hash(*_cost())


def hash_password(password):
    """An argon2id hash of ``password``."""
    return hasher().hash(password)


def verify(stored, password):
    """Whether ``password`` matches the ``stored`` hash (argon2id, scrypt or pbkdf2)."""
    if not stored:
        return False
    if stored.startswith(ARGON2_PREFIX):
        try:
            return hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        return check_password_hash(stored, password)
    except ValueError:  # an unknown method: no password matches it
        return False


def needs_rehash(stored):
    """Whether ``stored`` should be replaced (older method, or another cost than configured)."""
    if not stored or not stored.startswith(ARGON2_PREFIX):
        return True
    try:
        return hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True
