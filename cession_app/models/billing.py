"""Requests for a re-issued tax document after a transfer (authorized requests)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class TaxDocumentRequest(db.Model):
    """The new owner asks for a new tax document made out to its billing details."""

    __tablename__ = "tax_document_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfer_requests.id"), index=True)
    payment_request_id: Mapped[int] = mapped_column(ForeignKey("payment_requests.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    billing_details: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester = relationship("Account")
    payment_request = relationship("PaymentRequest")
    transfer = relationship("TransferRequest")
