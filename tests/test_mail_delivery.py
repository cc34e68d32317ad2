"""Mail: written with the change, delivered by the worker, kept and retried while SMTP is down."""

import time

import pytest

from cession_app import create_app, worker
from cession_app.extensions import db
from cession_app.models import OutboxMessage, TransferRequest
from cession_app.models.base import utcnow
from tests.conftest import free_port
from tests.lifecycle_helpers import deliver, html_of, link_for, outbox, push, text_of


@pytest.fixture
def app_config(app_config):
    """The SMTP server is unreachable: MAIL_PORT points at a closed port."""
    app_config["MAIL_PORT"] = free_port()
    return app_config


def test_request_made_while_smtp_is_down_is_kept_and_its_mails_arrive_later(
    app, app_config, make, smtp
):
    novak = make.account("novak", language="pl")
    svoboda = make.account("svoboda", language="cs")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web, notify_email="office@example.test")

    counts = deliver()  # the server is down
    assert counts["mails"] == 0
    assert db.session.get(TransferRequest, req.id).state == "awaiting"
    waiting = outbox()
    assert len(waiting) == 3
    assert all(m.sent_at is None and m.attempts == 1 and m.last_error for m in waiting)
    assert smtp.messages == []
    assert deliver()["mails"] == 0  # backing off: not tried again at once
    assert all(m.attempts == 1 for m in outbox())

    # The server is back: a worker with the right settings delivers after the back-off.
    time.sleep(max(0.0, (max(m.next_attempt_at for m in waiting) - utcnow()).total_seconds()))
    back = create_app({**app_config, "MAIL_PORT": smtp.port})
    with back.app_context():
        assert worker.run_once()["mails"] == 3
        assert all(m.sent_at is not None for m in db.session.scalars(db.select(OutboxMessage)))
        db.session.remove()
        db.engine.dispose()
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        [novak.email, svoboda.email, "office@example.test"]
    )
    assert link_for(smtp, svoboda.email).startswith(f"/transfers/requests/{req.id}/respond/")
    for message in smtp.messages:  # text and HTML
        assert "novak.cz" in text_of(message) and "novak.cz" in html_of(message)
    for address in (novak.email, svoboda.email):  # links built from BASE_URL
        assert "http://cession.test/transfers/requests/" in html_of(smtp.to(address)[0])
