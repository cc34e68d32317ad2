"""Several business cases in one request (issue 15, item 2): the wizard adds further domains
of the same other customer, each with its own services and reasons; each account confirms
once for the whole request; execution moves every service of every domain, or none."""

import pytest
from sqlalchemy import select

from cession_app import worker
from cession_app.api.auth import create_key
from cession_app.extensions import db
from cession_app.models import AuditEvent, Service
from cession_app.staff import operations as staff_ops
from cession_app.transfers import operations
from tests.lifecycle_helpers import audit_actions, fresh, link_for, text_of
from tests.test_transfer_wizard import run_url, step1, submit, text


@pytest.fixture
def world(make):
    seller = make.account("seller", name="Jana Prodejová")
    buyer = make.account("buyer", name="Karel Kupec")
    stranger = make.account("stranger", name="Petr Cizí")
    services = {
        "alpha": [make.service(seller, "alpha.cz", "domain"), make.service(seller, "alpha.cz")],
        "beta": [
            make.service(seller, "beta.cz", "webhosting"),
            make.service(seller, "beta.cz", "email"),
        ],
        "gamma": [make.service(seller, "gamma.cz", "domain")],
    }
    make.service(stranger, "delta.cz", "webhosting")
    make.service(seller, "epsilon.cz", "webhosting", state="terminating")
    return seller, buyer, stranger, services


def all_ids(services):
    return [s.id for group in services.values() for s in group]


def pull_three(make, seller, buyer, services, **kwargs):
    """A pull request of every service of alpha.cz, beta.cz and gamma.cz."""
    return operations.create_request(
        buyer,
        direction="pull",
        domain="alpha.cz",
        more_domains=["beta.cz", "gamma.cz"],
        other=seller,
        service_ids=all_ids(services),
        **kwargs,
    )


def add_domain(client, run, domain):
    return client.post(f"{run}/add-domain", data={"domain": domain})


def start_pull(client, seller):
    run = run_url(step1(client, "pull", "alpha.cz", code=seller.code))
    response = client.post(f"{run}/services", data={"add_domain": "1", "change": "both"})
    assert response.headers["Location"].endswith(f"{run}/add-domain"), text(response)
    return run


def owners(services):
    db.session.expire_all()
    return {db.session.get(Service, s.id).owner_id for group in services.values() for s in group}


# ---------------------------------------------------------------- the wizard
def test_three_domains_from_the_wizard_execute_at_once(client, world, log_in, smtp):
    seller, buyer, _stranger, services = world
    log_in("buyer")
    run = start_pull(client, seller)
    for domain in ("beta.cz", "gamma.cz"):
        response = add_domain(client, run, domain)
        assert response.headers["Location"].endswith(f"{run}/services"), text(response)
    page = text(client.get(f"{run}/services"))
    for domain in ("alpha.cz", "beta.cz", "gamma.cz"):
        assert f"Business case {domain}" in page
    assert "Remove beta.cz from this request" in page
    chosen = {"services": [str(i) for i in all_ids(services)], "change": "both"}
    response = client.post(f"{run}/services", data=chosen)
    assert response.headers["Location"].endswith(f"{run}/review"), text(response)
    review = text(client.get(f"{run}/review"))
    assert "alpha.cz, beta.cz, gamma.cz" in review
    assert review.count('class="notice whois"') == 2  # alpha.cz and gamma.cz move a domain
    assert 'name="holder_domains" value="gamma.cz"' in review
    response = client.post(f"{run}/review", data={"submit": "1", "holder_domains": ["gamma.cz"]})
    assert response.status_code == 302, text(response)
    request = fresh_latest()
    assert request.domains == ["alpha.cz", "beta.cz", "gamma.cz"]
    assert len(request.items) == 5 and request.holder_domains == ["gamma.cz"]
    assert sorted(p.account_id for p in request.parties) == sorted([seller.id, buyer.id])

    worker.run_once()
    mails = smtp.to(seller.email)
    assert len(mails) == 1  # one link for the whole request
    mail = text_of(mails[0])
    assert "Karel Kupec asks to take over 5 services of 3 domains from your account" in mail
    assert "Business case beta.cz:" in mail
    assert "gamma.cz: The change of the domain holder in the registry is under way" in mail
    assert "alpha.cz: Moving a domain between accounts does not change" in mail
    for party in (seller, buyer):
        response = client.post(link_for(smtp, party.email), data={"confirm": "1"})
        assert response.status_code == 200, text(response)
    worker.run_once()
    request = fresh(request.id)
    assert request.state == "executed"
    assert owners(services) == {buyer.id}
    actions = audit_actions(request.id)
    assert actions.count("transfer_requested") == 1
    assert actions.count("transfer_confirmed") == 2  # each party once
    assert actions.count("transfer_executed") == 1
    executed = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "transfer_executed", AuditEvent.object_id == str(request.id)
        )
    )
    assert executed.details["domains"] == ["alpha.cz", "beta.cz", "gamma.cz"]
    assert len(executed.details["services"]) == 5
    assert [t.domain for t in request.holder_changes] == ["gamma.cz"]
    page = text(client.get(f"/transfers/requests/{request.id}"))
    assert "alpha.cz, beta.cz, gamma.cz" in page and "Business case gamma.cz" in page


def fresh_latest():
    from cession_app.models import TransferRequest

    db.session.expire_all()
    return db.session.scalars(select(TransferRequest).order_by(TransferRequest.id.desc())).first()


def test_a_domain_of_another_customer_is_refused(client, world, log_in):
    seller, _buyer, _stranger, _services = world
    log_in("buyer")
    run = start_pull(client, seller)
    response = add_domain(client, run, "delta.cz")
    assert response.status_code == 200
    assert "No services of delta.cz belong to this customer" in text(response)
    response = add_domain(client, run, "alpha.cz")
    assert "alpha.cz is already part of this request." in text(response)
    page = text(client.get(f"{run}/services"))
    assert "delta.cz" not in page


def test_a_domain_with_nothing_movable_is_refused_with_the_reasons(client, world, log_in):
    seller, _buyer, _stranger, _services = world
    log_in("buyer")
    run = start_pull(client, seller)
    page = text(add_domain(client, run, "epsilon.cz"))
    assert "None of the services of epsilon.cz can be transferred right now" in page
    assert "has expired or is being terminated" in page
    assert "epsilon.cz" not in text(client.get(f"{run}/services"))


def test_push_cannot_add_a_domain_it_does_not_own(client, world, log_in):
    seller, buyer, _stranger, _services = world
    log_in("seller")
    run = run_url(step1(client, "push", "alpha.cz", code=buyer.code))
    page = text(add_domain(client, run, "delta.cz"))
    assert "You own no services of delta.cz" in page


def test_each_added_domain_needs_a_chosen_service(client, world, log_in):
    seller, _buyer, _stranger, services = world
    log_in("buyer")
    run = start_pull(client, seller)
    add_domain(client, run, "beta.cz")
    chosen = {"services": [str(services["alpha"][0].id)], "change": "both"}
    page = text(client.post(f"{run}/services", data=chosen))
    assert "Please choose at least one service of beta.cz" in page
    response = client.post(f"{run}/services", data={**chosen, "remove_domain": "beta.cz"})
    assert response.headers["Location"].endswith(f"{run}/services")
    response = client.post(f"{run}/services", data=chosen)
    assert response.headers["Location"].endswith(f"{run}/review")
    assert submit(client, run).status_code == 302
    assert fresh_latest().domains == ["alpha.cz"]


# ---------------------------------------------------------------- execution
def test_one_unpaid_service_of_the_second_domain_fails_the_whole_request(client, world, make, smtp):
    seller, buyer, _stranger, services = world
    request = pull_three(make, seller, buyer, services)
    worker.run_once()
    for party in (seller, buyer):
        client.post(link_for(smtp, party.email), data={"confirm": "1"})
    assert fresh(request.id).state == "confirmed"
    email = services["beta"][1]
    make.payment_request(email, amount="250.00", currency="CZK")
    worker.run_once()
    request = fresh(request.id)
    assert request.state == "failed"
    assert owners(services) == {seller.id}  # nothing moved, not even alpha.cz
    texts = operations.failure_texts(request)
    assert len(texts) == 1 and f"beta.cz, {email.external_id}" in texts[0]
    assert "a payment request of" in texts[0]
    assert all(not item.active for item in request.items)  # every lock released
    ended = text_of(smtp.to(buyer.email)[-1])
    assert "could not be executed" in ended and email.external_id in ended


def test_the_request_is_found_by_any_of_its_domains(app, world, make, client):
    seller, buyer, _stranger, services = world
    request = pull_three(make, seller, buyer, services)
    found = staff_ops.search("gamma.cz")
    assert [r.id for r in found.requests] == [request.id]
    _key, secret = create_key("test", ["read"], None)
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get("/api/v1/transfers?domain=beta.cz", headers=headers).get_json()
    assert [t["id"] for t in listed["items"]] == [request.id]
    shown = listed["items"][0]
    assert shown["domains"] == ["alpha.cz", "beta.cz", "gamma.cz"]
    assert {s["domain"] for s in shown["services"]} == {"alpha.cz", "beta.cz", "gamma.cz"}


def test_create_request_refuses_a_domain_without_chosen_services(app, world, make):
    seller, buyer, _stranger, services = world
    with pytest.raises(operations.TransferRefused) as refused:
        operations.create_request(
            buyer,
            direction="pull",
            domain="alpha.cz",
            more_domains=["beta.cz"],
            other=seller,
            service_ids=[s.id for s in services["alpha"]],
        )
    assert "beta.cz" in str(refused.value.reasons[None][0])


# ---------------------------------------------------------------- API and webhooks
def _api_headers(account=None, scopes=("read", "transfers")):
    _key, secret = create_key("test", list(scopes), account)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_creates_a_request_over_several_domains(app, world, client):
    seller, buyer, _stranger, services = world
    body = {
        "account": buyer.code,
        "direction": "pull",
        "domain": "alpha.cz",
        "more_domains": ["beta.cz"],
        "other": seller.code,
        "services": [s.external_id for s in services["alpha"] + services["beta"]],
    }
    response = client.post("/api/v1/transfers", json=body, headers=_api_headers())
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["domains"] == ["alpha.cz", "beta.cz"] and len(created["services"]) == 4
    parties = sorted(p["account"] for p in created["parties"])
    assert parties == sorted([seller.code, buyer.code])


def test_the_api_refuses_a_domain_of_another_customer(app, world, client):
    seller, buyer, _stranger, services = world
    body = {
        "account": buyer.code,
        "direction": "pull",
        "domain": "alpha.cz",
        "more_domains": ["delta.cz"],
        "other": seller.code,
        "services": [services["alpha"][0].external_id],
    }
    response = client.post("/api/v1/transfers", json=body, headers=_api_headers())
    assert response.status_code == 422
    assert "No services of delta.cz belong to this customer" in response.get_json()["detail"]


def test_webhook_payload_names_every_domain(app, world, make, client, smtp):
    from cession_app.webhooks.operations import payload

    seller, buyer, _stranger, services = world
    request = pull_three(make, seller, buyer, services)
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "transfer_requested", AuditEvent.object_id == str(request.id)
        )
    )
    data = payload(event)["data"]
    assert data["details"]["domains"] == ["alpha.cz", "beta.cz", "gamma.cz"]
    assert data["transfer"]["domains"] == ["alpha.cz", "beta.cz", "gamma.cz"]


def test_staff_find_and_see_every_domain(app, world, make, client, log_in):
    seller, buyer, _stranger, services = world
    request = pull_three(make, seller, buyer, services)
    make.account("staffer", staff=True, name="Petr Support")
    log_in("staffer")
    found = text(client.get("/staff/search", query_string={"q": "beta.cz"}))
    assert f'data-request="{request.id}"' in found
    assert "alpha.cz, beta.cz, gamma.cz" in found
    page = text(client.get(f"/staff/requests/{request.id}"))
    for domain in ("alpha.cz", "beta.cz", "gamma.cz"):
        assert f"Business case {domain}" in page
