"""Webhook endpoints and their deliveries (an outbox of HTTP calls, like the mail outbox)."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"


class WebhookEndpoint(db.Model):
    """A URL that receives events, signed with its secret (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[str] = mapped_column(Text, default="*")  # comma-separated, or *
    secret: Mapped[str] = mapped_column(String(100))  # whsec_<base64>
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def wants(self, event_type):
        """True when this endpoint takes events of ``event_type``."""
        types = [t for t in self.event_types.split(",") if t]
        return "*" in types or event_type in types


class WebhookDelivery(db.Model):
    """One event to send to one endpoint; written in the transaction of the event."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP answer
    last_error: Mapped[str | None] = mapped_column(Text)

    endpoint = relationship("WebhookEndpoint")
    event = relationship("AuditEvent")
