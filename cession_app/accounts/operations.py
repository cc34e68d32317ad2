"""Accounts: log-in, passwords, sessions, invitations (shared by web, CLI and staff console)."""

from dataclasses import dataclass

from sqlalchemy import select

from .. import audit
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
    if account is not None and account.check_password(password):
        throttle.clear(login_name)
        return LoginResult(account=account)
    return LoginResult(wait=throttle.record_failure(login_name))


def log_in(account):
    """Start a session for ``account`` in this request (caller has called login_user)."""
    sessions.start(account)
    audit.record("login", "account", account.code, actor=account)
