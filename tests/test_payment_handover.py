"""Handing over an unpaid payment request (issue 15, item 1): with the provider's setting,
the new payer may take it over; it must accept it; at execution the old one is cancelled
and a new one issued to the new payer; without the setting or the tick, the block stays."""

import pytest
from sqlalchemy import select

from cession_app import worker
from cession_app.extensions import db
from cession_app.models import AuditEvent, PaymentRequest
from cession_app.transfers import operations, reading
from tests.lifecycle_helpers import fresh, link_for, push
from tests.test_billing import count_statements
from tests.test_transfer_wizard import requests_in_db, submit, text


@pytest.fixture
def case(app, make):
    app.config["PAYMENT_HANDOVER"] = True
    seller = make.account("seller", name="Jana Prodejová", language="en")
    buyer = make.account("buyer", name="Karel Kupec", language="en")
    svc = make.service(seller, domain="shop.cz", kind="eshop")
    pr = make.payment_request(svc, amount="1490.00", currency="CZK", due_in=8)
    return seller, buyer, svc, pr


def payment_requests(svc):
    db.session.expire_all()
    query = select(PaymentRequest).where(PaymentRequest.service_id == svc.id)
    return db.session.scalars(query.order_by(PaymentRequest.id)).all()


def confirm(client, smtp, account, **extra):
    return client.post(link_for(smtp, account.email), data={"confirm": "1", **extra})


def test_the_new_payer_takes_over_the_unpaid_payment_request(case, make, client, smtp):
    seller, buyer, svc, old = case
    request = push(make, seller, buyer, svc, take_over_payments=True)
    db.session.commit()
    assert request.handover_payments == [old.external_id]
    worker.run_once()
    mail = smtp.to(buyer.email)[0].get_body(("plain",)).get_content()
    assert "you take over these unpaid payment requests" in mail
    assert old.external_id in mail and "1,490.00" in mail
    assert "take over" not in smtp.to(seller.email)[0].get_body(("plain",)).get_content()

    confirm(client, smtp, seller)
    page = text(client.get(link_for(smtp, buyer.email)))
    assert "I take over the unpaid payment requests listed above" in page
    refused = confirm(client, smtp, buyer)  # without the tick
    assert "please tick that you take over" in text(refused)
    assert fresh(request.id).party_for(buyer.id).confirmed_at is None

    confirm(client, smtp, buyer, take_over_payments="y")
    worker.run_once()
    assert fresh(request.id).state == "executed"
    cancelled, issued = payment_requests(svc)
    assert cancelled.cancelled_on is not None and cancelled.paid_on is None
    assert issued.payer_id == buyer.id and issued.is_open
    assert (issued.amount, issued.currency) == (old.amount, old.currency)
    assert issued.due_on >= old.due_on
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert "payment_request_handed_over" in events


def test_both_appear_in_billing(case, make, client, smtp, log_in):
    seller, buyer, svc, old = case
    request = push(make, seller, buyer, svc, take_over_payments=True)
    db.session.commit()
    worker.run_once()
    confirm(client, smtp, seller)
    confirm(client, smtp, buyer, take_over_payments="y")
    worker.run_once()
    assert fresh(request.id).state == "executed"
    log_in("seller")
    page = text(client.get("/billing/"))
    assert old.external_id in page and "Taken over by the new payer on" in page
    client.post("/logout")
    log_in("buyer")
    page = text(client.get("/billing/"))
    assert f"{old.external_id}-T{request.id}" in page.split("Paid invoices")[0]


def test_without_the_tick_the_block_stays(case, make):
    seller, buyer, svc, _old = case
    with pytest.raises(operations.TransferRefused) as refused:
        push(make, seller, buyer, svc)
    [reason] = next(iter(refused.value.reasons.values()))
    assert reason.code == "unpaid_handover" and "take it over" in str(reason)


def test_without_the_setting_the_seeds_block_stays(case, app, make):
    seller, buyer, svc, _old = case
    app.config["PAYMENT_HANDOVER"] = False
    with pytest.raises(operations.TransferRefused) as refused:
        push(make, seller, buyer, svc, take_over_payments=True)
    [reason] = next(iter(refused.value.reasons.values()))
    assert reason.code == "unpaid"


def test_only_a_change_of_payer_can_hand_it_over(case, make):
    seller, buyer, svc, _old = case
    with pytest.raises(operations.TransferRefused):
        push(make, seller, buyer, svc, change="owner", take_over_payments=True)


def test_a_payment_request_issued_later_was_not_accepted(case, make, client, smtp):
    seller, buyer, svc, _old = case
    request = push(make, seller, buyer, svc, take_over_payments=True)
    db.session.commit()
    worker.run_once()
    confirm(client, smtp, seller)
    confirm(client, smtp, buyer, take_over_payments="y")
    make.payment_request(svc, amount="99.00", due_in=20)  # issued after the acceptance
    worker.run_once()
    assert fresh(request.id).state == "failed"
    assert all(pr.cancelled_on is None for pr in payment_requests(svc))


def test_the_wizard_offers_the_handover_and_the_review_lists_it(case, client, log_in):
    seller, buyer, svc, old = case
    log_in("seller")
    response = client.post("/transfers/wizard/push", data={"domain": "shop.cz", "code": buyer.code})
    run = response.headers["Location"].removesuffix("/services")
    page = text(client.get(f"{run}/services"))
    assert "The new payer takes over the unpaid payment requests" in page
    assert f'value="{svc.id}"' in page and "disabled" not in page.split(f'value="{svc.id}"')[1][:80]
    refused = client.post(f"{run}/services", data={"services": [svc.id], "change": "both"})
    assert refused.status_code == 200 and "take it over" in text(refused)
    response = client.post(
        f"{run}/services",
        data={"services": [svc.id], "change": "both", "take_over_payments": "y"},
    )
    assert response.headers["Location"].endswith("/review")
    review = text(client.get(f"{run}/review"))
    assert "Unpaid payment requests taken over by the new payer" in review
    assert old.external_id in review and "Karel Kupec" in review
    assert submit(client, run).status_code == 302
    [created] = requests_in_db()
    assert created.handover_payments == [old.external_id]


def test_several_services_hand_over_in_their_order_read_at_once(case, make, client, smtp):
    """The buyer's link page lists the payment request of each service of the request, in
    the order of the request's services; they are read in one statement, however many
    services there are."""
    seller, buyer, svc, first = case
    others = [make.service(seller, domain="shop.cz", kind=kind) for kind in ("webhosting", "email")]
    later = [make.payment_request(s, amount="100.00", currency="CZK", due_in=8) for s in others]
    request = push(make, seller, buyer, svc, *others, take_over_payments=True)
    db.session.commit()
    shown = reading.read_request(request.id)
    by_service = {pr.service_id: pr.external_id for pr in (first, *later)}
    in_order = [by_service[item.service_id] for item in shown.items]

    with count_statements() as seen:
        handed = operations.handed_over_payments(shown)
    assert [pr.external_id for _service, pr in handed] == in_order
    assert len(seen) == 1

    worker.run_once()
    confirm(client, smtp, seller)
    page = text(client.get(link_for(smtp, buyer.email)))
    places = [page.index(f"<li>{external_id} (") for external_id in in_order]
    assert places == sorted(places)


def test_support_confirms_for_the_new_payer_only_with_its_acceptance(
    case, make, client, smtp, log_in, vnu
):
    """Support confirming on behalf of the new payer must say that it accepted the payment
    requests it takes over, as the customer ticks it itself; the old payer's form has no
    such tick."""
    seller, buyer, svc, _old = case
    make.account("staffer", staff=True, name="Petr Support")
    request = push(make, seller, buyer, svc, take_over_payments=True)
    db.session.commit()
    log_in("staffer")
    tick = "The customer accepts the unpaid payment requests listed above and will pay them"
    page = client.get(f"/staff/requests/{request.id}")
    assert text(page).count(tick) == 1
    vnu.add("staff request with a handover", page.get_data(as_text=True))
    assert not vnu.errors()
    url = f"/staff/requests/{request.id}/parties/{buyer.id}/confirm"
    data = {"reason": "Mailbox is dead", "reference": "ID card checked at the office"}

    refused = text(client.post(url, data=data, follow_redirects=True))
    assert "confirm on their behalf only once they have accepted them" in refused
    assert fresh(request.id).party_for(buyer.id).confirmed_at is None

    done = text(client.post(url, data={**data, "take_over_payments": "y"}, follow_redirects=True))
    assert "Confirmed on behalf of Karel Kupec" in done
    assert fresh(request.id).party_for(buyer.id).confirmed_at is not None
    seller_url = f"/staff/requests/{request.id}/parties/{seller.id}/confirm"
    done = text(client.post(seller_url, data=data, follow_redirects=True))
    assert "Everyone has confirmed" in done
