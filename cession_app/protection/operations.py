"""Changing the protection settings: each change an audit event; an unlock is announced."""

from datetime import timedelta

from .. import audit, mailer
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models.base import utcnow
from ..transfers import rules

UNLOCK_DELAY = timedelta(hours=24)


def is_locked(account, now=None):
    """True while no request may move this account's services out."""
    return rules.outgoing_locked(account, now or utcnow())


def lock(account):
    """Lock outgoing transfers now (also cancels an unlock that was waiting)."""
    account.outgoing_locked = True
    account.outgoing_unlock_at = None
    audit.record("outgoing_locked", "account", account.code, actor=account)
    db.session.commit()


def request_unlock(account):
    """The lock ends in 24 hours; the account's address is told, so a stranger is noticed."""
    if not is_locked(account) or account.outgoing_unlock_at is not None:
        return False
    account.outgoing_unlock_at = utcnow() + UNLOCK_DELAY
    audit.record(
        "outgoing_unlock_requested",
        "account",
        account.code,
        actor=account,
        unlock_at=account.outgoing_unlock_at.isoformat(),
    )
    mailer.queue_to_account(
        "outgoing_unlock",
        _l("Transfers out of your account will be possible again"),
        account,
        unlock_at=account.outgoing_unlock_at,
        settings_url=mailer.link("protection.index"),
    )
    db.session.commit()
    return True


def save_settings(account, *, confirm_with_password, auto_accept_from):
    """Store the password requirement and the auto-accept list (normalised)."""
    account.confirm_with_password = bool(confirm_with_password)
    codes = rules.auto_accept_codes(auto_accept_from)
    account.auto_accept_from = " ".join(codes)
    audit.record(
        "protection_changed",
        "account",
        account.code,
        actor=account,
        confirm_with_password=account.confirm_with_password,
        auto_accept_from=codes,
    )
    db.session.commit()
