"""Webhooks: endpoints, deliveries queued with the audit event, sent by the worker one at a time.

A delivery row is written in the transaction of the audit event it carries (``queue``, called
by ``audit.record``), so an event is sent if and only if its change was committed. The worker
sends one delivery at a time, each in its own transaction, in event order per endpoint (a
delivery waits while an older one to the same endpoint is pending), retries with exponential
back-off, and after WEBHOOK_GIVE_UP_HOURS marks it failed and disables the endpoint.
Signatures follow the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256>``).
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from .. import audit, bulk
from ..extensions import db
from ..models import TransferRequest, WebhookDelivery, WebhookEndpoint
from ..models.base import utcnow
from ..models.webhooks import FAILED, PENDING, SENT

log = logging.getLogger("cession.webhooks")

EVENT_TYPES = (
    "transfer_requested",
    "transfer_confirmed",
    "transfer_fully_confirmed",
    "transfer_declined",
    "transfer_cancelled",
    "transfer_expired",
    "transfer_failed",
    "transfer_executed",
    "payment_marked_paid",
    "service_terminated",
    "service_changed",
    "account_synced",
    "service_synced",
    "payment_request_synced",
    "service_blocked",
    "service_unblocked",
)
SECRET_PREFIX = "whsec_"


class EndpointRefused(ValueError):
    """An endpoint cannot be registered as asked; ``message`` says why (translated)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# ---------------------------------------------------------------- endpoints
def check_url(url):
    """Refuse (EndpointRefused) a URL the worker could not post to; the CLI and staff page."""
    from ..i18n import lazy_gettext as _l

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused(
            _l("The URL must start with https:// (or http://), not %(url)s.", url=repr(url))
        )
    if len(url) > 2000 or not url.isprintable() or " " in url:
        raise EndpointRefused(
            _l("The URL must be at most 2000 printable characters, without spaces.")
        )


def create_endpoint(url, event_types=("*",), actor=None):
    """A new enabled endpoint with a fresh secret (added to the session; caller commits)."""
    from ..i18n import lazy_gettext as _l

    check_url(url)
    event_types = sorted({t.strip() for t in event_types if t.strip()}) or ["*"]
    unknown = [t for t in event_types if t != "*" and t not in EVENT_TYPES]
    if unknown:
        raise EndpointRefused(
            _l(
                "These are unknown event types: %(unknown)s. Known: %(known)s.",
                unknown=", ".join(unknown),
                known=", ".join(EVENT_TYPES),
            )
        )
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()
    endpoint = WebhookEndpoint(url=url, event_types=",".join(event_types), secret=secret)
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook_endpoint_added", "webhook_endpoint", endpoint.id, actor=actor, url=url)
    return endpoint


def set_enabled(endpoint, enabled, actor=None):
    """Enable or disable an endpoint (caller commits)."""
    endpoint.enabled = enabled
    endpoint.disabled_at = None if enabled else utcnow()
    action = "webhook_endpoint_enabled" if enabled else "webhook_endpoint_disabled"
    audit.record(action, "webhook_endpoint", endpoint.id, actor=actor)


def delete_endpoint(endpoint, actor=None):
    """Remove an endpoint and its delivery log (caller commits)."""
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    audit.record(
        "webhook_endpoint_deleted", "webhook_endpoint", endpoint.id, actor=actor, url=endpoint.url
    )
    db.session.delete(endpoint)


def notify_disabled(endpoint):
    """Mail every staff account that ``endpoint`` was disabled (outbox; caller commits)."""
    from .. import mailer
    from ..i18n import lazy_gettext as _l
    from ..models import Account

    subject = _l("A webhook endpoint has been disabled")
    hours = current_app.config["WEBHOOK_GIVE_UP_HOURS"]
    page = mailer.link("staff.webhook", endpoint_id=endpoint.id)
    for admin in db.session.scalars(select(Account).where(Account.is_staff.is_(True))):
        mailer.queue_to_account(
            "webhook_disabled", subject, admin, endpoint=endpoint, hours=hours, page_url=page
        )


# ---------------------------------------------------------------- queueing
def enabled_endpoints():
    """The enabled endpoints (read without flushing the caller's pending changes)."""
    with db.session.no_autoflush:
        return db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
        ).all()


def queue(event, endpoints=None):
    """Add a delivery of ``event`` for every enabled endpoint that wants it (same transaction).

    ``endpoints``: the enabled endpoints when the caller has read them already.
    """
    if event.action not in EVENT_TYPES:
        return
    if endpoints is None:
        endpoints = enabled_endpoints()
    for endpoint in wanting(event.action, endpoints):
        db.session.add(WebhookDelivery(endpoint=endpoint, event=event))


def wanting(action, endpoints):
    """Those of ``endpoints`` that take events of ``action``."""
    if action not in EVENT_TYPES:
        return []
    return [endpoint for endpoint in endpoints if endpoint.wants(action)]


def queue_batch(events, endpoints):
    """``queue`` for events written already (the executor's batch), with one INSERT.

    ``events``: (event id, action) pairs; ``endpoints``: the enabled endpoints.
    """
    rows = [
        {"endpoint_id": endpoint.id, "event_id": event_id}
        for event_id, action in events
        for endpoint in wanting(action, endpoints)
    ]
    bulk.insert_rows(WebhookDelivery.__table__, rows)


def redeliver(delivery, actor=None):
    """Send the same event to the same endpoint again (a new delivery; caller commits)."""
    again = WebhookDelivery(endpoint_id=delivery.endpoint_id, event_id=delivery.event_id)
    db.session.add(again)
    db.session.flush()
    audit.record(
        "webhook_redelivered",
        "webhook_endpoint",
        delivery.endpoint_id,
        actor=actor,
        delivery=delivery.id,
        event=delivery.event_id,
    )
    return again


# ---------------------------------------------------------------- the message
def payload(event):
    """The JSON body of an event: type, timestamp, data (with the transfer, for its events)."""
    from ..api import serialize

    data = serialize.event(event, {})
    data.pop("actor")
    if event.object_type == "transfer" and event.object_id.isdigit():
        transfer = db.session.get(TransferRequest, int(event.object_id))
        if transfer is not None:
            data["transfer"] = serialize.transfer_with_codes(transfer)
    return {"type": event.action, "timestamp": serialize.iso(event.created_at), "data": data}


def message_id(delivery):
    """The webhook-id: the same for every attempt and redelivery of one event to one endpoint."""
    return f"msg_{delivery.event_id}_{delivery.endpoint_id}"


def sign(secret, msg_id, timestamp, body):
    """The webhook-signature header value for ``body`` (Standard Webhooks, v1)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# ---------------------------------------------------------------- delivery (the worker)
def _due_query(now):
    older = aliased(WebhookDelivery)
    cutoff = now - timedelta(seconds=current_app.config["WEBHOOK_CLAIM_TIMEOUT"])
    waiting_older = exists().where(
        older.endpoint_id == WebhookDelivery.endpoint_id,
        older.status == PENDING,
        older.id < WebhookDelivery.id,
    )
    return (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.enabled.is_(True),
            or_(WebhookDelivery.claimed_at.is_(None), WebhookDelivery.claimed_at < cutoff),
            ~waiting_older,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    ), cutoff


def _claim(now):
    """The next due delivery, claimed for this worker (committed), or None."""
    query, cutoff = _due_query(now)
    delivery_id = db.session.scalar(query)
    if delivery_id is None:
        db.session.rollback()
        return None
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == PENDING,
            or_(WebhookDelivery.claimed_at.is_(None), WebhookDelivery.claimed_at < cutoff),
        )
        .values(claimed_at=now)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    return db.session.get(WebhookDelivery, delivery_id)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer like any other: not followed


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _post(delivery):
    """POST the signed event; the receiver's status code, or an error text."""
    body = json.dumps(payload(delivery.event), ensure_ascii=False).encode()
    msg_id, timestamp = message_id(delivery), str(int(utcnow().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "cession-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign(delivery.endpoint.secret, msg_id, timestamp, body),
    }
    request = urllib.request.Request(delivery.endpoint.url, body, headers, method="POST")
    timeout = current_app.config["WEBHOOK_TIMEOUT"]
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return answer.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return None, str(exc)[:500] or type(exc).__name__


def _finish(delivery, status, error, now):
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.finished_at = SENT, now
        return
    cfg = current_app.config
    if now - delivery.created_at >= timedelta(hours=cfg["WEBHOOK_GIVE_UP_HOURS"]):
        delivery.status, delivery.finished_at = FAILED, now
        if delivery.endpoint.enabled:
            set_enabled(delivery.endpoint, False)
            notify_disabled(delivery.endpoint)
            log.warning("webhook endpoint %s disabled: %s", delivery.endpoint.url, error)
        return
    delay = cfg["WEBHOOK_RETRY_BASE"] * 2 ** (delivery.attempts - 1)
    delivery.next_attempt_at = now + timedelta(seconds=min(delay, cfg["WEBHOOK_RETRY_MAX"]))
    delivery.claimed_at = None


def deliver_due(limit=50, now=None):
    """Send due deliveries one at a time, each in its own transaction; returns how many."""
    done = 0
    for _ in range(limit):
        delivery = _claim(now or utcnow())
        if delivery is None:
            break
        status, error = _post(delivery)
        _finish(delivery, status, error, now or utcnow())
        db.session.commit()
        done += 1
    return done


def deliveries_query(endpoint_id):
    """The delivery log of an endpoint as a query, newest first (with each event)."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .options(joinedload(WebhookDelivery.event))
        .order_by(WebhookDelivery.id.desc())
    )


def deliveries_of(endpoint_id, limit=50):
    """The delivery log of an endpoint, newest first."""
    return db.session.scalars(deliveries_query(endpoint_id).limit(limit)).all()
