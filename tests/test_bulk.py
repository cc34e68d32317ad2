"""Many rows written with one statement (cession_app.bulk): what is read back is what was
written, on SQLite (executemany) and on PostgreSQL (one JSON parameter), alike."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from cession_app import bulk
from cession_app.extensions import db
from cession_app.models import AuditEvent, OutboxMessage, PaymentRequest, Service

ODD = 'quotes " and \\ backslash, </script>, ünïcödé ł ř, emoji 🙂, new\nline'


def test_inserted_rows_read_back_as_written(app, make, backend):
    when = datetime(2026, 12, 3, 14, 5, 6, 789012, tzinfo=UTC)
    rows = [
        {
            "action": "bulk_test",
            "object_type": "transfer",
            "object_id": str(n),
            "details": {"n": n, "text": ODD, "list": [1, None, "x"], "nested": {"a": True}},
            "created_at": when + timedelta(seconds=n),
            "channel": "system",
            "actor_id": None,
        }
        for n in range(3)
    ]
    bulk.insert_rows(AuditEvent.__table__, rows)
    db.session.commit()
    read = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "bulk_test").order_by(AuditEvent.id)
    ).all()
    assert [e.object_id for e in read] == ["0", "1", "2"]
    assert [e.details for e in read] == [row["details"] for row in rows]
    assert [e.created_at for e in read] == [row["created_at"] for row in rows]
    assert all(e.actor_id is None and e.ip is None for e in read)


def test_defaults_written_in_python_are_filled_in(app, make, backend):
    me = make.account("novak")
    before = datetime.now(UTC)
    bulk.insert_rows(
        OutboxMessage.__table__,
        [
            {
                "recipient": f"n{n}@example.test",
                "account_id": me.id,
                "template": "test",
                "language": "cs",
                "timezone": "Europe/Prague",
                "context": None,
                "subject": ODD,
                "text_body": "",
                "html_body": "",
            }
            for n in range(2)
        ],
    )
    db.session.commit()
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "test").order_by(OutboxMessage.id)
    ).all()
    assert [m.recipient for m in mails] == ["n0@example.test", "n1@example.test"]
    assert all(m.stored_subject == ODD for m in mails)
    assert all(m.status == "pending" and m.attempts == 0 for m in mails)
    assert all(m.created_at >= before and m.next_attempt_at >= before for m in mails)


def test_dates_and_amounts_keep_their_exact_values(app, make, backend):
    me = make.account("novak")
    svc = make.service(me, domain="novak.cz")
    bulk.insert_rows(
        PaymentRequest.__table__,
        [
            {
                "external_id": "PR-BULK-1",
                "service_id": svc.id,
                "payer_id": me.id,
                "issued_on": date(2026, 12, 1),
                "due_on": date(2026, 12, 31),
                "amount": Decimal("1234567890.05"),
                "currency": "CZK",
            }
        ],
    )
    db.session.commit()
    pr = db.session.scalar(select(PaymentRequest).where(PaymentRequest.external_id == "PR-BULK-1"))
    assert (pr.issued_on, pr.due_on) == (date(2026, 12, 1), date(2026, 12, 31))
    assert pr.amount == Decimal("1234567890.05")


def test_updated_rows_change_only_those_named(app, make, backend):
    me, other = make.account("novak"), make.account("svoboda")
    first, second, third = (make.service(me, domain=f"d{n}.cz") for n in range(3))
    moved = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    bulk.update_rows(
        Service.__table__,
        [
            {"b_id": first.id, "owner_id": other.id, "moved_at": moved},
            {"b_id": second.id, "owner_id": other.id, "moved_at": None},
            {"b_id": first.id, "owner_id": other.id, "moved_at": moved + timedelta(hours=1)},
        ],
    )
    db.session.commit()
    db.session.expire_all()
    assert (first.owner_id, first.moved_at) == (other.id, moved + timedelta(hours=1))
    assert (second.owner_id, second.moved_at) == (other.id, None)
    assert (third.owner_id, third.moved_at) == (me.id, None)


def test_no_rows_write_nothing_and_a_naive_time_is_refused(app, make, backend):
    bulk.insert_rows(AuditEvent.__table__, [])
    bulk.update_rows(Service.__table__, [])
    row = {"action": "bulk_naive", "object_type": "transfer", "object_id": "1"}
    with pytest.raises(Exception, match="naive datetime"):
        bulk.insert_rows(AuditEvent.__table__, [{**row, "created_at": datetime(2026, 1, 1)}])
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bulk_naive")) is None
