"""All models, importable from one place (and seen by Alembic)."""

from .accounts import Account
from .audit import AuditEvent
from .billing import TaxDocumentRequest
from .holder import HolderChange
from .outbox import OutboxMessage
from .records import TransferRecord, TransferRecordCopy
from .services import PaymentRequest, Service
from .sessions import AccountSession, LoginThrottle, SsoNonce
from .transfers import TransferItem, TransferParty, TransferRequest
from .two_factor import RecoveryCode, TwoFactor

__all__ = [
    "Account",
    "AccountSession",
    "AuditEvent",
    "HolderChange",
    "LoginThrottle",
    "OutboxMessage",
    "PaymentRequest",
    "RecoveryCode",
    "Service",
    "SsoNonce",
    "TaxDocumentRequest",
    "TransferRecord",
    "TransferRecordCopy",
    "TransferItem",
    "TransferParty",
    "TransferRequest",
    "TwoFactor",
]
