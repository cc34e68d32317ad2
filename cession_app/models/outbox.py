"""Outgoing mail, written in the same transaction as the change it reports.

A message's life: ``pending`` (waiting; ``next_attempt_at`` says when it is due, and while a
worker delivers it ``claimed_by``/``claimed_at`` say which one and since when), then
``sent`` (``sent_at``) or ``failed`` (``failed_at``, ``failure_kind`` and ``last_error`` say
why); a sent or failed message keeps the claim of the worker that finished it. A pending
message may carry the ``last_error`` of a temporary failure it is retried after.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"
STATUSES = (PENDING, SENT, FAILED)

# Why a message failed for good (shown to staff, translated there):
# address: the recipient address cannot be used; refused: the mail server refused the
# recipient (5xx); rejected: the server refused the message itself (5xx after DATA);
# unsendable: the message could not be built (encoding, header); expired: the recipient's
# server kept answering "try later" for longer than MAIL_GIVE_UP_HOURS.
FAILURE_KINDS = ("address", "refused", "rejected", "unsendable", "expired")


class OutboxMessage(db.Model):
    """One mail to deliver; the worker claims it, sends it, and marks it sent or failed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, server_default=PENDING)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_kind: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
