"""Customer accounts."""

import secrets
import string
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, String, Text, false, select
from sqlalchemy.orm import Mapped, mapped_column

from .. import passwords
from ..extensions import built_once, db, one_of
from .base import UTCDateTime


def new_customer_code():
    """A fresh customer code in the seeds' style: eight letters, then a digit (e.g. egeelhil8)."""
    letters = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    return letters + secrets.choice(string.digits)


class Account(UserMixin, db.Model):
    """A customer account: identified to others by code, number and login name."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, default=new_customer_code)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Prague")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    billing_name: Mapped[str] = mapped_column(String(200), default="")
    billing_address: Mapped[str] = mapped_column(Text, default="")
    vat_id: Mapped[str] = mapped_column(String(32), default="")
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff only: "support" (read, resend, retry mail) or "admin" (also cancel, confirm on
    # behalf, settings); staff without a role are admins, as all staff were before roles.
    staff_role: Mapped[str | None] = mapped_column(String(16))
    # Protection settings (cession_app/protection/): no request may move services out while
    # locked; an unlock takes effect at outgoing_unlock_at, a day after it was asked for.
    outgoing_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    outgoing_unlock_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_with_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Customer codes (space-separated) whose requests that move services here are accepted.
    auto_accept_from: Mapped[str] = mapped_column(Text, default="", server_default="")

    def set_password(self, password):
        """Store a strong (argon2id) hash of the password."""
        self.password_hash = passwords.hash_password(password)

    def check_password(self, password):
        """True when the password matches; accounts without one cannot log in."""
        return passwords.verify(self.password_hash, password)

    def __repr__(self):
        return f"<Account {self.code}>"


@built_once
def _accounts_by_id():
    return select(Account).where(one_of(Account.id, "ids"))


def accounts_by_id(ids):
    """{id: Account} of the accounts of ``ids`` (any iterable of ids), in one statement
    (built once), or none for no ids."""
    ids = list(ids)
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(_accounts_by_id(), {"ids": ids})}
