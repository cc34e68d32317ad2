"""Helpers for the transfer life-cycle tests: make requests, read links from caught mail."""

import re

from cession_app import worker
from cession_app.extensions import db
from cession_app.models import AuditEvent, OutboxMessage, TransferRequest
from cession_app.transfers import operations

LINK = re.compile(r"http://cession\.test(/transfers/requests/\d+/respond/[A-Za-z0-9_.\-]+)")


def text_of(message):
    """The plain-text part of a caught mail."""
    return message.get_body(("plain",)).get_content()


def html_of(message):
    """The HTML part of a caught mail."""
    return message.get_body(("html",)).get_content()


def link_for(smtp, email):
    """The path of the latest confirmation link mailed to ``email``."""
    for message in reversed(smtp.to(email)):
        found = LINK.search(text_of(message))
        if found:
            return found.group(1)
    raise AssertionError(f"no confirmation link was mailed to {email}")


def deliver():
    """One worker pass (executions, expiries, reminders, mail delivery)."""
    return worker.run_once()


def push(make, owner, other, *services, change="both", **kwargs):
    """A push request of ``services`` from ``owner`` to ``other``."""
    return operations.create_request(
        owner,
        direction="push",
        domain=services[0].domain,
        other=other,
        service_ids=[s.id for s in services],
        change=change,
        **kwargs,
    )


def fresh(request_id):
    """The request as stored now."""
    db.session.expire_all()
    return db.session.get(TransferRequest, request_id)


def outbox(template=None):
    """Outbox messages (of one template), oldest first."""
    query = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == template)
    return db.session.scalars(query).all()


def audit_actions(request_id):
    """The audit actions recorded for a request, in order."""
    query = (
        db.select(AuditEvent.action)
        .where(AuditEvent.object_type == "transfer", AuditEvent.object_id == str(request_id))
        .order_by(AuditEvent.id)
    )
    return db.session.scalars(query).all()


def confirm_all(client, smtp, request):
    """Every confirming party follows its mailed link and POSTs Confirm."""
    for party in request.parties:
        if party.must_confirm:
            response = client.post(link_for(smtp, party.account.email), data={"confirm": "1"})
            assert response.status_code == 200, response.text
