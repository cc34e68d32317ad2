"""A scheduled date (issue 15, item 3): a confirmed request takes effect on its day, not
before, with every rule checked again then; its services stay locked until then."""

from datetime import timedelta

import pytest

from cession_app import worker
from cession_app.extensions import db
from cession_app.models.base import utcnow
from cession_app.transfers import operations
from tests.lifecycle_helpers import confirm_all, fresh, push
from tests.test_transfer_wizard import requests_in_db, submit, text, through_step2


@pytest.fixture
def case(app, make):
    novak = make.account("novak", language="en")
    svoboda = make.account("svoboda", language="en")
    return novak, svoboda, make.service(novak, domain="novak.cz")


def in_days(days):
    return operations.provider_today() + timedelta(days=days)


def test_a_scheduled_request_executes_on_its_day_and_not_before(case, make, client, smtp):
    novak, svoboda, svc = case
    request = push(make, novak, svoboda, svc, execute_on=in_days(10))
    db.session.commit()
    worker.run_once()
    confirm_all(client, smtp, request)
    now = utcnow()
    worker.run_once(now + timedelta(days=9))
    assert fresh(request.id).state == "confirmed"
    assert fresh(request.id).items[0].service.owner_id == novak.id
    # the lock holds: no other request can take the service meanwhile
    with pytest.raises(operations.TransferRefused) as refused:
        push(make, novak, make.account("dvorak"), svc)
    assert [r.code for r in next(iter(refused.value.reasons.values()))] == ["locked"]

    worker.run_once(now + timedelta(days=10, hours=1))
    assert fresh(request.id).state == "executed"
    assert db.session.get(type(svc), svc.id).owner_id == svoboda.id


def test_the_rules_are_checked_again_on_the_day(case, make, client, smtp):
    novak, svoboda, svc = case
    request = push(make, novak, svoboda, svc, execute_on=in_days(5))
    db.session.commit()
    worker.run_once()
    confirm_all(client, smtp, request)
    make.payment_request(svc)  # issued meanwhile, unpaid
    worker.run_once(utcnow() + timedelta(days=6))
    assert fresh(request.id).state == "failed"
    assert db.session.get(type(svc), svc.id).owner_id == novak.id


@pytest.mark.parametrize("days", [-1, 91])
def test_a_day_outside_the_next_90_days_is_refused(case, make, days):
    novak, svoboda, svc = case
    with pytest.raises(operations.TransferRefused) as refused:
        push(make, novak, svoboda, svc, execute_on=in_days(days))
    [reason] = refused.value.reasons[None]
    assert reason.code == "schedule" and "Please choose a day from" in str(reason)
    assert requests_in_db() == []


def test_the_wizard_sets_the_day_and_the_pages_and_mails_say_it(case, client, log_in, smtp):
    novak, svoboda, svc = case
    log_in("novak")
    run = through_step2(client, "push", "novak.cz", [svc.id], code=svoboda.code)
    page = text(client.get(f"{run}/review"))
    assert "Day the transfer takes effect (optional)" in page and 'type="date"' in page
    too_late = in_days(120).isoformat()
    response = client.post(f"{run}/review", data={"submit": "1", "execute_on": too_late})
    assert "Please choose a day from" in text(response) and requests_in_db() == []

    day = in_days(30)
    response = client.post(f"{run}/review", data={"submit": "1", "execute_on": day.isoformat()})
    assert response.status_code == 302
    [created] = requests_in_db()
    assert created.execute_on == day
    worker.run_once()
    mail = smtp.to(svoboda.email)[0].get_body(("plain",)).get_content()
    assert "Once everyone has confirmed, the transfer takes effect on" in mail
    assert f"{day.day} {day:%b} {day.year}" in mail
    confirm_all(client, smtp, created)
    detail = text(client.get(f"/transfers/requests/{created.id}"))
    assert f"Confirmed, takes effect on {day.day} {day:%b} {day.year}" in detail


def test_without_a_day_it_executes_at_once(case, client, log_in, smtp):
    novak, svoboda, svc = case
    log_in("novak")
    run = through_step2(client, "push", "novak.cz", [svc.id], code=svoboda.code)
    assert submit(client, run).status_code == 302
    [created] = requests_in_db()
    assert created.execute_on is None
    worker.run_once()
    confirm_all(client, smtp, created)
    worker.run_once()
    assert fresh(created.id).state == "executed"
