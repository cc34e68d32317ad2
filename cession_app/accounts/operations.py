"""Accounts: log-in, passwords, sessions, invitations (shared by web, CLI and staff console)."""

from dataclasses import dataclass

from sqlalchemy import select

from .. import audit, passwords
from ..extensions import db
from ..models import Account
from . import sessions, throttle


@dataclass
class LoginResult:
    """The outcome of a log-in attempt: the account, or a wait in seconds, or neither."""

    account: Account | None = None
    wait: int = 0


def authenticate(login_name, password):
    """Check a log-in; counts failures per login name (see ``throttle``).

    While a name must wait, its password is not even checked.
    """
    login_name = (login_name or "").strip()
    wait = throttle.seconds_to_wait(login_name)
    if wait:
        return LoginResult(wait=wait)
    account = db.session.scalar(select(Account).filter_by(login=login_name))
    stored = account.password_hash if account is not None else None
    # Unknown names (and accounts without a password) check a dummy hash: same time taken.
    if passwords.verify(stored or passwords.dummy_hash(), password) and stored:
        throttle.clear(login_name)
        if passwords.needs_rehash(stored):
            account.set_password(password)  # scrypt (or an old cost) -> argon2id
        return LoginResult(account=account)
    return LoginResult(wait=throttle.record_failure(login_name))


def log_in(account):
    """Start a session for ``account`` in this request (caller has called login_user)."""
    sessions.start(account)
    audit.record("login", "account", account.code, actor=account)
