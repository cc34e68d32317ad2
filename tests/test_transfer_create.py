"""Creating a request: parties, locks, mails written to the outbox."""

import pytest

from cession_app.extensions import db
from cession_app.models import OutboxMessage, TransferItem
from cession_app.transfers import operations


def test_push_creates_request_parties_and_confirmation_mails(app, make):
    me = make.account("novak", language="pl")
    other = make.account("svoboda", language="cs")
    web = make.service(me, domain="novak.cz", kind="webhosting")
    dom = make.service(me, domain="novak.cz", kind="domain")
    req = operations.create_request(
        me,
        direction="push",
        domain="novak.cz",
        other=other,
        service_ids=[web.id, dom.id],
        notify_email="x@example.test",
    )
    assert req.state == "awaiting"
    assert {p.account_id: p.must_confirm for p in req.parties} == {me.id: True, other.id: True}
    mails = db.session.scalars(db.select(OutboxMessage)).all()
    assert sorted(m.recipient for m in mails) == sorted([me.email, other.email, "x@example.test"])
    link_mail = next(m for m in mails if m.recipient == other.email)
    assert "http://cession.test/transfers/requests/" in link_mail.text_body
    assert link_mail.language == "cs"


def test_service_in_open_request_is_locked(app, make):
    me = make.account("novak")
    other = make.account("svoboda")
    web = make.service(me, domain="novak.cz")
    operations.create_request(
        me, direction="push", domain="novak.cz", other=other, service_ids=[web.id]
    )
    with pytest.raises(operations.TransferRefused) as caught:
        operations.create_request(
            me, direction="push", domain="novak.cz", other=other, service_ids=[web.id]
        )
    assert [r.code for r in caught.value.reasons[web]] == ["locked"]
    assert db.session.query(TransferItem).count() == 1


def test_double_submit_creates_one_request(app, make):
    me = make.account("novak")
    other = make.account("svoboda")
    web = make.service(me, domain="novak.cz")
    kwargs = dict(
        direction="push", domain="novak.cz", other=other, service_ids=[web.id], submit_key="k1"
    )
    first = operations.create_request(me, **kwargs)
    second = operations.create_request(me, **kwargs)
    assert first.id == second.id
