"""Two-factor authentication: TOTP codes (pyotp) from an authenticator app, enrolled with a
QR code (segno), and ten recovery codes, shown once and stored as digests.

A code works once: the time step of the last accepted code is kept, and a recovery code is
marked used, each by a conditional UPDATE (two requests racing cannot both use one code).
"""

import hashlib
import hmac
import re
import secrets
import time

from flask import current_app
from sqlalchemy import delete, select, update

from .. import audit, tokens
from ..extensions import db
from ..models import RecoveryCode, TwoFactor
from ..models.base import utcnow

RECOVERY_CODES = 10
STEP = 30
CODE = re.compile(r"\d{6}")
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def is_enabled(account):
    """Whether ``account`` signs in with a second factor."""
    return db.session.get(TwoFactor, account.id) is not None


def new_secret():
    """A fresh TOTP secret (base32, 160 bits)."""
    import pyotp  # only enrolment and checking a code need it, not every web worker's start

    return pyotp.random_base32(32)


def provisioning_uri(account, secret):
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    issuer = current_app.config["TWO_FACTOR_ISSUER"]
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=account.login, issuer_name=issuer)


def qr_code(uri):
    """The QR code of ``uri`` as an SVG data URI (an ``<img>`` the CSP allows)."""
    import segno  # only the enrolment page draws a QR code

    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _step_of(secret, code, now):
    """The time step (one before or after now allowed) whose code is ``code``, or None."""
    code = re.sub(r"\s", "", code or "")
    if not CODE.fullmatch(code):
        return None
    import pyotp

    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        moment = now + offset * STEP
        if hmac.compare_digest(totp.at(moment), code):
            return int(moment // STEP)
    return None


def _digest(code):
    normal = re.sub(r"[\s\-]", "", code or "").lower()
    return hashlib.sha256(normal.encode()).hexdigest()


def _new_recovery_codes(account):
    codes = []
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(account_id=account.id, digest=_digest(raw)))
    return codes


def enable(account, secret, code, now=None):
    """Turn two-factor on when ``code`` matches ``secret``: the recovery codes (to show
    once), or None when the code is wrong. Caller commits."""
    step = _step_of(secret, code, now if now is not None else time.time())
    if step is None:
        return None
    db.session.execute(delete(TwoFactor).where(TwoFactor.account_id == account.id))
    db.session.add(TwoFactor(account_id=account.id, secret=secret, last_step=step))
    codes = _new_recovery_codes(account)
    audit.record("two_factor_enabled", "account", account.code, actor=account)
    return codes


def new_recovery_codes(account):
    """Replace the recovery codes (the old ones stop working); caller commits."""
    codes = _new_recovery_codes(account)
    audit.record("recovery_codes_renewed", "account", account.code, actor=account)
    return codes


def disable(account):
    """Turn two-factor off; caller commits."""
    db.session.execute(delete(TwoFactor).where(TwoFactor.account_id == account.id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    audit.record("two_factor_disabled", "account", account.code, actor=account)


def verify(account, code, now=None):
    """Whether ``code`` (an app's code or a recovery code) is good now; uses it up.

    Returns "totp", "recovery" or None.
    """
    row = db.session.get(TwoFactor, account.id)
    if row is None:
        return None
    step = _step_of(row.secret, code, now if now is not None else time.time())
    if step is not None:
        used = db.session.execute(
            update(TwoFactor)
            .where(
                TwoFactor.account_id == account.id,
                (TwoFactor.last_step.is_(None)) | (TwoFactor.last_step < step),
            )
            .values(last_step=step)
        )
        return "totp" if used.rowcount == 1 else None
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.digest == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount == 1:
        audit.record("recovery_code_used", "account", account.code, actor=account)
        return "recovery"
    return None


def recovery_codes_left(account):
    """How many unused recovery codes ``account`` has."""
    rows = db.session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    return len(rows)


def required(account):
    """Whether ``account`` must have two-factor (staff, when the setting says so)."""
    return bool(account.is_staff and current_app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"])


# ---------------------------------------------------------------- remembered browsers
DEVICE_COOKIE = "cession_device"
DEVICE_PURPOSE = "2fa-device"


def _device_fingerprint(account):
    row = db.session.get(TwoFactor, account.id)
    # A new password or a new enrolment forgets every remembered browser.
    return tokens.fingerprint(account.id, row.secret if row else None, account.password_hash)


def remember_days():
    """Days a browser may skip the code (TWO_FACTOR_REMEMBER_DAYS; 0: never, the default)."""
    return max(0, current_app.config["TWO_FACTOR_REMEMBER_DAYS"])


def device_token(account):
    """The value of the cookie that lets this browser skip the code for ``account``."""
    return tokens.make_token(DEVICE_PURPOSE, {"a": account.id, "f": _device_fingerprint(account)})


def is_remembered(account, cookie):
    """Whether ``cookie`` (the browser's) lets ``account`` skip the code now."""
    days = remember_days()
    if account is None or not days or not cookie:
        return False
    try:
        payload = tokens.load_token(DEVICE_PURPOSE, cookie, max_age=days * 86400)
    except (tokens.TokenExpired, tokens.TokenInvalid):
        return False
    return (
        isinstance(payload, dict)
        and payload.get("a") == account.id
        and payload.get("f") == _device_fingerprint(account)
    )
