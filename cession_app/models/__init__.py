"""All models, importable from one place (and seen by Alembic)."""

from .accounts import Account
from .api import ApiKey, IdempotentAnswer
from .audit import AuditEvent
from .billing import TaxDocumentRequest
from .heartbeat import WorkerHeartbeat
from .holder import HolderChange
from .outbox import OutboxMessage
from .records import TransferRecord, TransferRecordCopy
from .services import PaymentRequest, Service
from .sessions import AccountSession, LoginThrottle, SsoNonce
from .transfers import TransferItem, TransferParty, TransferRequest
from .two_factor import RecoveryCode, TwoFactor
from .webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "AccountSession",
    "ApiKey",
    "AuditEvent",
    "HolderChange",
    "IdempotentAnswer",
    "LoginThrottle",
    "OutboxMessage",
    "PaymentRequest",
    "RecoveryCode",
    "Service",
    "SsoNonce",
    "TaxDocumentRequest",
    "TransferItem",
    "TransferParty",
    "TransferRecord",
    "TransferRecordCopy",
    "TransferRequest",
    "TwoFactor",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerHeartbeat",
]
