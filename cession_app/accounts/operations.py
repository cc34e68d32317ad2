"""Accounts: log-in, passwords, sessions, invitations (shared by web, CLI and staff console)."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from .. import addresses, audit, mailer, passwords, tokens
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Account, AuditEvent, OutboxMessage
from ..models.base import utcnow
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


def log_in(account, method="password"):
    """Start a session for ``account`` in this request (caller has called login_user)."""
    sessions.start(account)
    audit.record("login", "account", account.code, actor=account, method=method)


# ---------------------------------------------------------------- set-password links
RESET = "password-reset"
INVITATION = "invitation"
PASSWORD_PURPOSES = (RESET, INVITATION)
# Most accounts one "forgot password" request may mail (accounts sharing one address).
RESET_MAX_ACCOUNTS = 5


class LinkRefused(Exception):
    """A link that cannot be used; ``status`` and a translated ``message``."""

    def __init__(self, status, message):
        super().__init__(str(message))
        self.status = status
        self.message = message


def _password_fingerprint(account):
    # Changes with the password: a link is dead once used, or once the password changed.
    return tokens.fingerprint(account.id, account.password_hash)


def password_token(account, purpose):
    """A signed link token that lets ``account`` set a new password (reset or invitation)."""
    return tokens.make_token(purpose, {"a": account.id, "f": _password_fingerprint(account)})


def password_link(account, purpose):
    """The absolute set-password link for ``account`` (for mails)."""
    endpoint = "accounts.reset_password" if purpose == RESET else "accounts.accept_invitation"
    return mailer.link(endpoint, token=password_token(account, purpose))


def _max_age(purpose):
    cfg = current_app.config
    if purpose == RESET:
        return cfg["PASSWORD_RESET_MINUTES"] * 60
    return cfg["INVITATION_DAYS"] * 86400


def check_password_token(purpose, token):
    """The account a set-password link is for, or LinkRefused saying why not."""
    try:
        payload = tokens.load_token(purpose, token, max_age=_max_age(purpose))
    except tokens.TokenExpired as exc:
        raise LinkRefused(410, _expired_message(purpose)) from exc
    except tokens.TokenInvalid as exc:
        raise LinkRefused(
            400,
            _l("This link is not valid. Please open the link exactly as it arrived in the e-mail."),
        ) from exc
    account = None
    if isinstance(payload, dict) and isinstance(payload.get("a"), int):
        account = db.session.get(Account, payload["a"])
    if account is None or payload.get("f") != _password_fingerprint(account):
        raise LinkRefused(
            410,
            _l(
                "This link has been used already, or the password was changed since it was"
                " sent. If you still need a new password, ask for a new link."
            ),
        )
    return account


def _expired_message(purpose):
    if purpose == RESET:
        return _l("This link has expired (it is valid for one hour). Please ask for a new one.")
    return _l("This invitation has expired. Please ask for a new link to set your password.")


def _accounts_named(identifier):
    """Accounts a "forgot password" entry names: by login name, or all at an address."""
    identifier = (identifier or "").strip()
    if "@" not in identifier:
        account = db.session.scalar(select(Account).filter_by(login=identifier))
        return [account] if account is not None else []
    try:
        address = addresses.normalize(identifier)
    except addresses.AddressInvalid:
        return []
    query = select(Account).where(func.lower(Account.email) == address.lower())
    return db.session.scalars(query.order_by(Account.id).limit(RESET_MAX_ACCOUNTS)).all()


def _mails_in_last_hour(account, template):
    since = utcnow() - timedelta(hours=1)
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.account_id == account.id,
            OutboxMessage.template == template,
            OutboxMessage.created_at >= since,
        )
    )


def request_password_reset(identifier):
    """Mail a reset link to the account(s) named by login name or e-mail; commits.

    Returns how many mails were queued; the caller answers the same whatever it is, so
    nobody learns whether an account exists. At most PASSWORD_RESET_MAILS_PER_HOUR per
    account, so that nobody can flood a customer's mailbox.
    """
    queued = 0
    limit = current_app.config["PASSWORD_RESET_MAILS_PER_HOUR"]
    accounts = _accounts_named(identifier)
    if not accounts:  # the same work as for an account, so that the timing tells nothing
        nobody = Account(login="", name="", email="nobody@invalid", language="en")
        mailer.render(
            "password_reset",
            _l("Set a new password for the customer panel"),
            nobody.email,
            nobody,
            url=mailer.link("accounts.forgot_password"),
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
        )
    for account in accounts:
        if _mails_in_last_hour(account, "password_reset") >= limit:
            continue
        mailer.queue_to_account(
            "password_reset",
            _l("Set a new password for the customer panel"),
            account,
            url=password_link(account, RESET),
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
        )
        audit.record("password_reset_requested", "account", account.code)
        queued += 1
    db.session.commit()
    return queued


def set_new_password(account, password, *, how, keep_session=None):
    """Set ``account``'s password (caller has checked it): every other session ends, the
    account is told by mail, and the change is an audit event. Caller commits.

    ``how``: "reset", "invitation" or "changed" (in My data, where this session is kept).
    """
    account.set_password(password)
    ended = sessions.end_all(account, except_key=keep_session)
    audit.record("password_set", "account", account.code, actor=account, how=how, ended=ended)
    mailer.queue_to_account(
        "password_changed",
        _l("Your password has been changed"),
        account,
        forgot_url=mailer.link("accounts.forgot_password"),
        when=utcnow(),
    )
    throttle.clear(account.login)


# ---------------------------------------------------------------- invitations
INVITE_AGAIN_AFTER = timedelta(hours=24)


def invited_recently(account, now=None):
    """Whether ``account`` got an invitation in the last 24 hours."""
    since = (now or utcnow()) - INVITE_AGAIN_AFTER
    return (
        db.session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.object_type == "account",
                AuditEvent.object_id == account.code,
                AuditEvent.action == "invitation_sent",
                AuditEvent.created_at >= since,
            )
            .limit(1)
        )
        is not None
    )


def invite(account, *, actor=None, again=False):
    """Mail ``account`` a link to set its first password (valid INVITATION_DAYS days).

    Returns False, sending nothing, when the account has a password already, or was
    invited in the last 24 hours (unless ``again``). Caller commits. Used by
    ``flask invite`` and the staff console's Invite button (``actor``: the staff account).
    """
    if account.password_hash or (not again and invited_recently(account)):
        return False
    mailer.queue_to_account(
        "invitation",
        _l("Your account in the customer panel: set your password"),
        account,
        url=password_link(account, INVITATION),
        days=current_app.config["INVITATION_DAYS"],
    )
    audit.record("invitation_sent", "account", account.code, actor=actor)
    return True


def accounts_without_password():
    """Ids of the accounts that have no password yet, in order."""
    query = select(Account.id).where(Account.password_hash.is_(None)).order_by(Account.id)
    return db.session.scalars(query).all()


# ---------------------------------------------------------------- My data: password, e-mail
EMAIL_CHANGE = "email-change"
EMAIL_UNDO = "email-undo"


def check_current_password(account, password):
    """The current password, re-checked before a change; failures count as failed log-ins.

    Returns a LoginResult: ``account`` set when right, else ``wait`` (seconds, maybe 0).
    """
    wait = throttle.seconds_to_wait(account.login)
    if wait:
        return LoginResult(wait=wait)
    if account.check_password(password):
        return LoginResult(account=account)
    return LoginResult(wait=throttle.record_failure(account.login))


def request_email_change(account, new_address):
    """Mail a confirmation link to ``new_address`` (already normalized); caller commits.

    Nothing changes until the link is followed: the address must be the customer's.
    """
    token = tokens.make_token(
        EMAIL_CHANGE,
        {"a": account.id, "e": new_address, "f": tokens.fingerprint(account.id, account.email)},
    )
    mailer.queue(
        "email_confirm",
        _l("Confirm your new contact e-mail"),
        new_address,
        account=account,
        url=mailer.link("accounts.confirm_email", token=token),
        hours=current_app.config["EMAIL_CHANGE_HOURS"],
    )
    audit.record("email_change_requested", "account", account.code, actor=account, new=new_address)


def _load(purpose, token, max_age, expired):
    try:
        payload = tokens.load_token(purpose, token, max_age=max_age)
    except tokens.TokenExpired as exc:
        raise LinkRefused(410, expired) from exc
    except tokens.TokenInvalid as exc:
        raise LinkRefused(
            400,
            _l("This link is not valid. Please open the link exactly as it arrived in the e-mail."),
        ) from exc
    account = None
    if isinstance(payload, dict) and isinstance(payload.get("a"), int):
        account = db.session.get(Account, payload["a"])
    if account is None:
        raise LinkRefused(404, _l("This link belongs to no account."))
    return account, payload


def _used():
    return LinkRefused(
        410, _l("This link has been used already, or the contact e-mail has changed since.")
    )


def check_email_change(token):
    """(account, new address) of a confirmation link, or LinkRefused."""
    account, payload = _load(
        EMAIL_CHANGE,
        token,
        current_app.config["EMAIL_CHANGE_HOURS"] * 3600,
        _l("This link has expired. Please ask for the change again in My data."),
    )
    if payload.get("f") != tokens.fingerprint(account.id, account.email):
        raise _used()
    return account, payload.get("e")


def apply_email_change(account, new_address):
    """Make ``new_address`` the contact e-mail; tell the old one, with a 7-day undo link.

    Requests already open keep their parties; new links go to the new address. Caller commits.
    """
    old = account.email
    account.email = new_address
    token = tokens.make_token(
        EMAIL_UNDO,
        {"a": account.id, "o": old, "f": tokens.fingerprint(account.id, new_address)},
    )
    audit.record("email_changed", "account", account.code, actor=account, old=old, new=new_address)
    mailer.queue(
        "email_changed",
        _l("Your contact e-mail has been changed"),
        old,
        account=account,
        new_address=new_address,
        url=mailer.link("accounts.undo_email", token=token),
        days=current_app.config["EMAIL_UNDO_DAYS"],
    )


def check_email_undo(token):
    """(account, old address) of an undo link, or LinkRefused."""
    account, payload = _load(
        EMAIL_UNDO,
        token,
        current_app.config["EMAIL_UNDO_DAYS"] * 86400,
        _l("This link has expired. Please contact us to change the address back."),
    )
    if payload.get("f") != tokens.fingerprint(account.id, account.email):
        raise _used()
    return account, payload.get("o")


def undo_email_change(account, old_address):
    """Restore the old contact e-mail and sign out every session (it may have been taken
    over). Caller commits."""
    new = account.email
    account.email = old_address
    ended = sessions.end_all(account)
    audit.record(
        "email_change_undone", "account", account.code, old=new, new=old_address, ended=ended
    )


def end_other_sessions(account, keep_key):
    """ "Sign out everywhere else": every session but this one ends; caller commits."""
    ended = sessions.end_all(account, except_key=keep_key)
    audit.record("sessions_ended", "account", account.code, actor=account, ended=ended)
    return ended


def end_session(account, session_id):
    """End one of ``account``'s sessions; False when it is not one of its live ones."""
    if not sessions.end_one(account, session_id):
        return False
    audit.record("sessions_ended", "account", account.code, actor=account, ended=1)
    return True
