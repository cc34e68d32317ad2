"""All models, importable from one place (and seen by Alembic)."""

from .accounts import Account
from .api import ApiKey, IdempotentAnswer
from .audit import AuditEvent
from .billing import TaxDocumentRequest
from .heartbeat import WorkerHeartbeat
from .outbox import OutboxMessage
from .services import PaymentRequest, Service
from .transfers import TransferItem, TransferParty, TransferRequest
from .webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "IdempotentAnswer",
    "OutboxMessage",
    "PaymentRequest",
    "Service",
    "TaxDocumentRequest",
    "TransferItem",
    "TransferParty",
    "TransferRequest",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerHeartbeat",
]
