"""Transfer records: the kept facts of an ended request and the PDF copies issued of it."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class TransferRecord(db.Model):
    """What a request did and who agreed how, frozen when it ended, with its SHA-256."""

    __tablename__ = "transfer_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("transfer_requests.id"), unique=True)
    content: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    copies = relationship("TransferRecordCopy", back_populates="record")


class TransferRecordCopy(db.Model):
    """One PDF file issued of a record (to a reader, in a language), known by its SHA-256."""

    __tablename__ = "transfer_record_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("transfer_records.id"), index=True)
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    reader: Mapped[str] = mapped_column(String(32))  # an account code, or "staff"
    language: Mapped[str] = mapped_column(String(5))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    record = relationship("TransferRecord", back_populates="copies")
