"""All models, importable from one place (and seen by Alembic)."""

from .accounts import Account
from .audit import AuditEvent
from .billing import TaxDocumentRequest
from .outbox import OutboxMessage
from .services import PaymentRequest, Service
from .sessions import AccountSession, LoginThrottle, SsoNonce
from .transfers import TransferItem, TransferParty, TransferRequest
from .two_factor import RecoveryCode, TwoFactor

__all__ = [
    "Account",
    "AccountSession",
    "AuditEvent",
    "LoginThrottle",
    "OutboxMessage",
    "PaymentRequest",
    "RecoveryCode",
    "Service",
    "SsoNonce",
    "TaxDocumentRequest",
    "TransferItem",
    "TransferParty",
    "TransferRequest",
    "TwoFactor",
]
