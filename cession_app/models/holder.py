"""Registry holder changes: a staff task created when a transfer moved a domain."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

HOLDER_STATES = ("open", "done", "refused")


class HolderChange(db.Model):
    """Change the domain's holder in the registry to the new owner (staff do it)."""

    __tablename__ = "holder_changes"
    __table_args__ = (Index("ix_holder_changes_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("transfer_requests.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    domain: Mapped[str] = mapped_column(String(253))
    new_holder_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    state: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    request = relationship("TransferRequest", back_populates="holder_changes")
    service = relationship("Service")
    new_holder = relationship("Account", foreign_keys=[new_holder_id])
    decided_by = relationship("Account", foreign_keys=[decided_by_id])
