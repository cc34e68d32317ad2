"""Webhooks to a real receiver on 127.0.0.1: signed, in order, retried, redelivered."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from cession_app.extensions import db
from cession_app.models import WebhookDelivery, WebhookEndpoint
from cession_app.models.base import utcnow
from cession_app.webhooks import operations as webhooks
from tests.lifecycle_helpers import confirm_all, deliver, push


class Receiver:
    """An HTTP server that keeps every POST (headers, body) and answers ``status``."""

    def __init__(self):
        self.received = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, secret):
        """The received events, each verified with the standardwebhooks package."""
        verifier = Webhook(secret)
        return [verifier.verify(body, headers) for headers, body in self.received]

    def close(self):
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app):
    """A webhook receiver on 127.0.0.1; retries come at once in tests."""
    app.config.update(WEBHOOK_RETRY_BASE=0, WEBHOOK_TIMEOUT=5)
    found = Receiver()
    yield found
    found.close()


def _endpoint(url, events=("*",)):
    endpoint = webhooks.create_endpoint(url, events)
    db.session.commit()
    return endpoint


def test_a_whole_transfer_arrives_in_order_and_verified(receiver, client, make, smtp):
    endpoint = _endpoint(receiver.url)
    novak, kowalska = make.account("novak"), make.account("kowalska")
    svc = make.service(novak, domain="novak.cz")
    request = push(make, novak, kowalska, svc)
    deliver()
    confirm_all(client, smtp, request)
    deliver()
    events = receiver.events(endpoint.secret)
    assert [e["type"] for e in events] == [
        "transfer_requested",
        "transfer_confirmed",
        "transfer_confirmed",
        "transfer_fully_confirmed",
        "transfer_executed",
    ]
    executed = events[-1]["data"]["transfer"]
    assert executed["state"] == "executed"
    assert executed["services"] == [
        {
            "id": svc.external_id,
            "domain": svc.domain,
            "old_owner": novak.code,
            "old_payer": novak.code,
            "new_owner": kowalska.code,
            "new_payer": kowalska.code,
        }
    ]
    ids = [headers["webhook-id"] for headers, _ in receiver.received]
    assert len(set(ids)) == len(ids)


def test_a_tampered_body_fails_verification(receiver, make):
    from standardwebhooks.webhooks import WebhookVerificationError

    endpoint = _endpoint(receiver.url)
    pr = make.payment_request(make.service(make.account("novak")))
    from cession_app.billing import operations as billing

    billing.mark_paid(pr, billing.today())
    deliver()
    headers, body = receiver.received[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(body.replace(b"payment", b"pAyment"), headers)


def test_only_subscribed_events_are_queued_in_the_same_transaction(receiver, make):
    _endpoint(receiver.url, ["transfer_executed"])
    novak, kowalska = make.account("novak"), make.account("kowalska")
    push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    assert db.session.scalars(select(WebhookDelivery)).all() == []


def test_a_failing_receiver_gets_retries_then_the_event_arrives(receiver, make):
    endpoint = _endpoint(receiver.url)
    novak, kowalska = make.account("novak"), make.account("kowalska")
    push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    receiver.status = 500
    deliver()
    deliver()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "pending" and delivery.attempts >= 2
    assert delivery.last_status == 500
    receiver.status = 204
    deliver()
    db.session.refresh(delivery)
    assert delivery.status == "sent" and delivery.last_status == 204
    assert len(receiver.received) == delivery.attempts
    assert {e["type"] for e in receiver.events(endpoint.secret)} == {"transfer_requested"}


def test_retries_back_off_exponentially(receiver, app, make):
    app.config["WEBHOOK_RETRY_BASE"] = 30
    _endpoint(receiver.url)
    novak, kowalska = make.account("novak"), make.account("kowalska")
    push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    receiver.status = 503
    now = utcnow()
    webhooks.deliver_due(now=now)
    delivery = db.session.scalar(select(WebhookDelivery))
    assert timedelta(seconds=29) < delivery.next_attempt_at - now <= timedelta(seconds=31)
    webhooks.deliver_due(now=delivery.next_attempt_at)
    db.session.refresh(delivery)
    assert delivery.attempts == 2
    assert delivery.next_attempt_at - now > timedelta(seconds=89)


def test_after_three_days_the_endpoint_is_disabled_and_staff_told(receiver, make):
    admin = make.account("admin", staff=True)
    endpoint = _endpoint(receiver.url)
    novak, kowalska = make.account("novak"), make.account("kowalska")
    push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    receiver.status = 500
    webhooks.deliver_due(now=utcnow() + timedelta(hours=73))
    db.session.refresh(endpoint)
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "failed" and not endpoint.enabled
    from tests.lifecycle_helpers import outbox

    mails = outbox("webhook_disabled")
    assert [m.recipient for m in mails] == [admin.email]
    assert receiver.url in mails[0].text_body and "72 hours" in mails[0].text_body
    page = f"http://cession.test/staff/webhooks/{endpoint.id}"
    assert page in mails[0].text_body and f'href="{page}"' in mails[0].html_body


def test_a_redelivery_from_the_log_arrives(receiver, runner, make):
    endpoint = _endpoint(receiver.url)
    novak, kowalska = make.account("novak"), make.account("kowalska")
    push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    deliver()
    assert len(receiver.received) == 1
    log = runner.invoke(args=["webhook", "log", str(endpoint.id)])
    assert "transfer_requested  sent  200" in log.output
    delivery_id = log.output.split()[0]
    result = runner.invoke(args=["webhook", "redeliver", delivery_id])
    assert result.exit_code == 0, result.output
    deliver()
    assert len(receiver.received) == 2
    first, second = receiver.events(endpoint.secret)
    assert first == second


def test_webhook_commands_add_and_refuse_bad_urls(runner):
    result = runner.invoke(args=["webhook", "add", "https://billing.example/hook"])
    assert result.exit_code == 0 and "Signing secret: whsec_" in result.output
    bad = runner.invoke(args=["webhook", "add", "ftp://x"])
    assert bad.exit_code == 1 and "https://" in bad.output
    unknown = runner.invoke(args=["webhook", "add", "https://x.example", "--events", "nope"])
    assert unknown.exit_code == 1 and "unknown event types" in unknown.output
    assert "https://billing.example/hook" in runner.invoke(args=["webhook", "list"]).output
    assert db.session.scalar(select(WebhookEndpoint.enabled)) is True


def test_payload_is_json_with_type_and_timestamp(receiver, make):
    _endpoint(receiver.url)
    novak, other = make.account("novak"), make.account("kowalska")
    push(make, novak, other, make.service(novak, domain="novak.cz"))
    deliver()
    headers, body = receiver.received[0]
    assert headers["content-type"] == "application/json"
    message = json.loads(body)
    assert message["type"] == "transfer_requested" and message["timestamp"]
