"""Services (grouped by domain into business cases) and their payment requests."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Numeric, String, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime

SERVICE_STATES = ("active", "expired", "terminating")


class Service(db.Model):
    """One service of a business case; the owner has full rights, the payer only pays."""

    __tablename__ = "services"
    __table_args__ = (
        Index("ix_services_owner_domain", "owner_id", "domain"),
        Index("ix_services_payer_domain", "payer_id", "domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    payer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    expires_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="active")
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    # When a transfer last changed its owner (the lock after a move counts from here).
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner = relationship("Account", foreign_keys=[owner_id])
    payer = relationship("Account", foreign_keys=[payer_id])
    payment_requests = relationship(
        "PaymentRequest", back_populates="service", order_by="PaymentRequest.issued_on"
    )

    def __repr__(self):
        return f"<Service {self.external_id} {self.kind} {self.domain}>"


class PaymentRequest(db.Model):
    """A proforma issued before expiry; unpaid while ``paid_on`` is empty."""

    __tablename__ = "payment_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    # The payer the document was made out to (stays with it after a payer change).
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date | None] = mapped_column(Date)
    # Cancelled when a transfer handed it over to the new payer (a new one was issued).
    cancelled_on: Mapped[date | None] = mapped_column(Date)

    service = relationship("Service", back_populates="payment_requests")
    payer = relationship("Account")

    @property
    def is_open(self):
        """Issued and still to be paid: neither paid nor cancelled."""
        return self.paid_on is None and self.cancelled_on is None

    @classmethod
    def open_clause(cls):
        """``is_open`` as a SQL condition."""
        return and_(cls.paid_on.is_(None), cls.cancelled_on.is_(None))
