"""Server-side records of sign-ins: one row per session, so that any of them can be ended."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class AccountSession(db.Model):
    """One signed-in browser. The cookie holds a random key; the row holds its digest.

    A session is live while ``ended_at`` is empty: log-out, a password change or reset and
    "sign out elsewhere" set it, and the cookie is refused from then on.
    """

    __tablename__ = "account_sessions"
    __table_args__ = (Index("ix_account_sessions_account_live", "account_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class LoginThrottle(db.Model):
    """Failed log-ins per login name (known or not, so that the wait reveals nothing).

    Kept in the database, so the count holds across web workers and restarts.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SsoNonce(db.Model):
    """A nonce of a sign-in link from the reseller's panel, kept so that it works once."""

    __tablename__ = "sso_nonces"

    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
