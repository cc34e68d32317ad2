"""All models, importable from one place (and seen by Alembic)."""

from .accounts import Account
from .audit import AuditEvent
from .billing import TaxDocumentRequest
from .holder import HolderChange
from .outbox import OutboxMessage
from .records import TransferRecord, TransferRecordCopy
from .services import PaymentRequest, Service
from .transfers import TransferItem, TransferParty, TransferRequest

__all__ = [
    "Account",
    "AuditEvent",
    "HolderChange",
    "OutboxMessage",
    "PaymentRequest",
    "Service",
    "TaxDocumentRequest",
    "TransferRecord",
    "TransferRecordCopy",
    "TransferItem",
    "TransferParty",
    "TransferRequest",
]
