"""All models, importable from one place (and seen by Alembic)."""

from .accounts import Account
from .audit import AuditEvent
from .billing import TaxDocumentRequest
from .outbox import OutboxMessage
from .records import TransferRecord, TransferRecordCopy
from .services import PaymentRequest, Service
from .settings import SiteSetting
from .transfers import TransferItem, TransferParty, TransferRequest

__all__ = [
    "Account",
    "AuditEvent",
    "OutboxMessage",
    "PaymentRequest",
    "Service",
    "SiteSetting",
    "TaxDocumentRequest",
    "TransferRecord",
    "TransferRecordCopy",
    "TransferItem",
    "TransferParty",
    "TransferRequest",
]
