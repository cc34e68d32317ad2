"""Outgoing mail, written in the same transaction as the change it reports.

A message's life: ``pending`` (waiting; ``next_attempt_at`` says when it is due, and while a
worker delivers it ``claimed_by``/``claimed_at`` say which one and since when), then
``sent`` (``sent_at``) or ``failed`` (``failed_at``, ``failure_kind`` and ``last_error`` say
why); a sent or failed message keeps the claim of the worker that finished it. A pending
message may carry the ``last_error`` of a temporary failure it is retried after.

A message is written with what to render (``context``: the template's values as JSON, ids
for the records they name, and the subject; ``language`` and ``timezone`` of the recipient)
and rendered by the worker when it is sent, which keeps the rendered subject and bodies.
Messages written before that (bodies, no context) are sent as they are. Reading
``subject``, ``text_body`` or ``html_body`` of a message not rendered yet renders it.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
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
    timezone: Mapped[str | None] = mapped_column(String(64))
    # What to render at delivery (JSON; see mailer.pack); None once rendered at writing.
    context: Mapped[str | None] = mapped_column(Text)
    stored_subject: Mapped[str | None] = mapped_column("subject", String(300))
    stored_text: Mapped[str | None] = mapped_column("text_body", Text)
    stored_html: Mapped[str | None] = mapped_column("html_body", Text)
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

    def rendered(self):
        """(subject, text, html): as stored, else rendered now (kept on this object only)."""
        if self.stored_text is not None or self.context is None:
            return self.stored_subject, self.stored_text, self.stored_html
        cached = self.__dict__.get("_rendered")
        if cached is None or cached[0] != self.context:
            from .. import mailer  # rendering needs the app's templates

            cached = self.__dict__["_rendered"] = (self.context, mailer.render_parts(self))
        return cached[1]

    @hybrid_property
    def subject(self):
        """The subject line (rendered when needed; alone, for lists of messages)."""
        if self.stored_subject is not None or self.context is None:
            return self.stored_subject
        if "_rendered" in self.__dict__:
            return self.rendered()[0]
        from .. import mailer

        return mailer.render_subject(self)

    @subject.inplace.setter
    def _subject_setter(self, value):
        self.stored_subject = value

    @subject.inplace.expression
    @classmethod
    def _subject_expression(cls):
        return cls.stored_subject

    @hybrid_property
    def text_body(self):
        """The plain-text part (rendered when needed)."""
        return self.rendered()[1]

    @text_body.inplace.setter
    def _text_body_setter(self, value):
        self.stored_text = value

    @text_body.inplace.expression
    @classmethod
    def _text_body_expression(cls):
        return cls.stored_text

    @hybrid_property
    def html_body(self):
        """The HTML part (rendered when needed)."""
        return self.rendered()[2]

    @html_body.inplace.setter
    def _html_body_setter(self, value):
        self.stored_html = value

    @html_body.inplace.expression
    @classmethod
    def _html_body_expression(cls):
        return cls.stored_html
