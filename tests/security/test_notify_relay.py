"""The extra notify address as a spam relay: requests per account and hour are limited (in
the operation, so every channel inherits it), and the notice says who asked and where to
report abuse."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cession_app.extensions import db
from cession_app.models import OutboxMessage, TransferRequest
from cession_app.models.base import utcnow
from cession_app.transfers import operations
from tests.lifecycle_helpers import deliver, html_of, push, text_of
from tests.test_transfer_wizard import step1, text, through_step2
from tests.test_worker import in_threads

VICTIM = "victim@example.org"
LIMIT_EN = "transfer requests in the last hour, the most we accept"


@pytest.fixture
def app_config(app_config):
    """Three requests an hour, and a support address."""
    app_config.update(TRANSFER_REQUESTS_PER_HOUR=3, SUPPORT_EMAIL="abuse@provider.example")
    return app_config


def accounts(make, n=4):
    """novak with ``n`` business cases, and svoboda."""
    novak = make.account("novak", name="Jan Novák", code="egeelhil8")
    svoboda = make.account("svoboda")
    services = [make.service(novak, domain=f"case{i}.cz") for i in range(n)]
    return novak, svoboda, services


def test_create_and_cancel_again_and_again_stops_at_the_limit(app, make, smtp):
    novak, svoboda, services = accounts(make, 5)
    for web in services[:3]:
        request = push(make, novak, svoboda, web, notify_email=VICTIM)
        operations.cancel(request, novak)
    with pytest.raises(operations.TransferRefused) as refused:
        push(make, novak, svoboda, services[3], notify_email=VICTIM)
    [reason] = refused.value.reasons[None]
    assert reason.code == "too_many_requests" and LIMIT_EN in str(reason)
    assert len(db.session.scalars(select(TransferRequest)).all()) == 3
    deliver()
    assert len(smtp.to(VICTIM)) == 3 * 2  # the notice and the end of each, nothing more


def test_other_accounts_are_not_limited_and_an_hour_later_it_works_again(app, make, smtp):
    novak, svoboda, services = accounts(make, 5)
    for web in services[:3]:
        push(make, novak, svoboda, web)
    kowalska = make.account("kowalska")
    push(make, kowalska, svoboda, make.service(kowalska, domain="kowalska.pl"))
    table = TransferRequest.__table__
    db.session.execute(
        update(table)
        .where(table.c.initiator_id == novak.id)
        .values(created_at=utcnow() - timedelta(minutes=61))
    )
    db.session.commit()
    assert push(make, novak, svoboda, services[3]).state == "awaiting"


def test_the_wizard_says_so_at_its_first_step(client, make, log_in):
    novak, svoboda, services = accounts(make, 4)
    for web in services[:3]:
        push(make, novak, svoboda, web)
    log_in("novak")
    response = step1(client, "push", "case3.cz", code=svoboda.code)
    assert response.status_code == 200
    assert "You have made 3 " + LIMIT_EN in text(response)
    assert "You can make the next one after" in text(response)


def test_the_wizard_refuses_at_submit_when_the_limit_was_reached_meanwhile(client, make, log_in):
    novak, svoboda, services = accounts(make, 4)
    log_in("novak")
    run = through_step2(client, "push", "case3.cz", [services[3].id], code=svoboda.code)
    for web in services[:3]:  # e.g. through another browser tab, or the API
        push(make, novak, svoboda, web)
    response = client.post(f"{run}/review", data={"submit": "1"}, follow_redirects=True)
    assert LIMIT_EN in text(response)
    assert len(db.session.scalars(select(TransferRequest)).all()) == 3


@pytest.mark.parametrize("language", ["pl", "cs", "de"])
def test_the_refusal_speaks_the_customers_language(client, make, log_in, language):
    novak, svoboda, services = accounts(make, 4)
    novak.language = language
    db.session.commit()
    for web in services[:3]:
        push(make, novak, svoboda, web)
    log_in("novak")
    expected = {
        "pl": "W ciągu ostatniej godziny złożono z Twojego konta 3 zamówienia cesji",
        "cs": "Za poslední hodinu jste podali 3 žádosti o převod",
        "de": "Sie haben in der letzten Stunde 3 Übertragungsanfragen gestellt",
    }[language]
    assert expected in text(step1(client, "push", "case3.cz", code=svoboda.code))


def test_parallel_requests_cannot_pass_the_limit_together(app, make):
    novak, svoboda, services = accounts(make, 6)
    push(make, novak, svoboda, services[0])
    db.session.commit()

    def create(service_id):
        from cession_app.models import Account, Service

        web = db.session.get(Service, service_id)
        owner, other = (db.session.get(Account, i) for i in (novak.id, svoboda.id))
        try:
            push(None, owner, other, web)
        except operations.TransferRefused:
            return "refused"
        return "created"

    results = in_threads(app, create, [(s.id,) for s in services[1:5]])
    assert sorted(results) == ["created", "created", "refused", "refused"]
    db.session.expire_all()
    assert len(db.session.scalars(select(TransferRequest)).all()) == 3


def test_the_notice_to_the_extra_address_says_who_asked_and_where_to_report_abuse(app, make, smtp):
    novak, svoboda, [web] = accounts(make, 1)
    push(make, novak, svoboda, web, change="payer", notify_email=VICTIM)
    deliver()
    [notice] = smtp.to(VICTIM)
    for body in (text_of(notice), html_of(notice)):
        assert "Jan Novák (customer code egeelhil8) has asked to transfer" in body
        assert "entered your address" in body
        assert "please tell us at abuse@provider.example" in body
    [stored] = db.session.scalars(
        select(OutboxMessage).filter_by(recipient=VICTIM, template="request_notice")
    ).all()
    assert "abuse@provider.example" in stored.text_body


def test_without_a_support_address_the_sender_address_is_given(app, make, smtp):
    app.config["SUPPORT_EMAIL"] = ""
    novak, svoboda, [web] = accounts(make, 1)
    push(make, novak, svoboda, web, notify_email=VICTIM)
    deliver()
    assert "please tell us at noreply@cession.test" in text_of(smtp.to(VICTIM)[0])


def test_accounts_told_of_a_request_see_the_initiators_code_too(app, make, smtp):
    novak, svoboda, [web] = accounts(make, 1)
    payer = make.account("payer")
    web.payer_id = payer.id
    db.session.commit()
    push(make, novak, svoboda, web, change="both")  # the old payer is told, not asked
    deliver()
    [notice] = smtp.to(payer.email)
    assert "Jan Novák (customer code egeelhil8) has asked" in text_of(notice)
    assert "entered your address" not in text_of(notice)
