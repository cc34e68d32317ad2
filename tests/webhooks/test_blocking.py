"""service_blocked / service_unblocked: emitted where a service's transfer block changes,
in the same transaction, for the events feed and the webhooks."""

import json

from sqlalchemy import select

from cession_app import blocking, dataio
from cession_app.api.auth import create_key
from cession_app.billing import operations as billing
from cession_app.extensions import db
from cession_app.models import AuditEvent, Service
from cession_app.services import operations as services
from cession_app.webhooks import operations as webhooks
from tests.api.conftest import ApiClient
from tests.lifecycle_helpers import deliver
from tests.test_dataio import changed, sample
from tests.webhooks.test_webhooks import receiver  # noqa: F401 (fixture)

BLOCK_EVENTS = ("service_blocked", "service_unblocked")


def _events():
    query = select(AuditEvent).where(AuditEvent.action.in_(BLOCK_EVENTS)).order_by(AuditEvent.id)
    return [
        (e.action, e.object_id, e.details["reason"], e.details["payment_request"])
        for e in db.session.scalars(query)
    ]


def _api(client, scopes):
    _key, secret = create_key("test", scopes.split(","))
    db.session.commit()
    return ApiClient(client, secret)


def _import(doc):
    dataio.import_data(doc)
    db.session.commit()


# ---------------------------------------------------------------- the pure rule
def test_blocks_and_changes_are_pure():
    assert blocking.blocks("active") == ()
    assert blocking.blocks("terminating", ["PR-2", "PR-1"]) == (
        blocking.Block("terminating"),
        blocking.Block("unpaid", "PR-1"),
        blocking.Block("unpaid", "PR-2"),
    )
    unpaid = blocking.blocks("active", ["PR-1"])
    assert blocking.changes({"S": ()}, {"S": unpaid}) == [("service_blocked", "S", unpaid)]
    assert blocking.changes({"S": unpaid}, {"S": ()}) == [("service_unblocked", "S", unpaid)]
    still = blocking.blocks("expired", ["PR-1"])
    assert blocking.changes({"S": unpaid}, {"S": still}) == []  # blocked before and after
    assert blocking.changes({}, {"NEW": unpaid}) == []  # created by the change: no event


# ---------------------------------------------------------------- mark paid
def test_mark_paid_from_the_cli_emits_unblocked(runner, make):
    svc = make.service(make.account("novak"), external_id="SVC-1")
    pr = make.payment_request(svc, external_id="PR-1")
    result = runner.invoke(args=["mark-paid", "PR-1"])
    assert result.exit_code == 0, result.output
    assert _events() == [("service_unblocked", "SVC-1", "unpaid", "PR-1")]
    event = db.session.scalar(select(AuditEvent).filter_by(action="service_unblocked"))
    assert event.channel == "cli" and event.details["service"] == "SVC-1"
    paid = db.session.scalar(select(AuditEvent).filter_by(action="payment_marked_paid"))
    assert paid.id < event.id  # the payment, then what it changed
    assert pr.external_id == "PR-1"


def test_paying_one_of_two_open_payment_requests_emits_nothing(app, make):
    svc = make.service(make.account("novak"))
    first, second = make.payment_request(svc), make.payment_request(svc)
    billing.mark_paid(first, billing.today())
    assert _events() == []
    billing.mark_paid(second, billing.today())
    assert [e[0] for e in _events()] == ["service_unblocked"]


def test_mark_paid_through_the_api_and_the_staff_page(client, make, log_in):
    owner = make.account("novak")
    make.account("boss", staff=True)
    one = make.service(owner, external_id="SVC-A")
    two = make.service(owner, external_id="SVC-B")
    make.payment_request(one, external_id="PR-A")
    make.payment_request(two, external_id="PR-B")
    api = _api(client, "sync")
    assert api.post("/payment-requests/PR-A/paid", json={}).status_code == 200
    log_in("boss")
    client.post("/staff/payment-requests/PR-B/paid", data={})
    events = db.session.scalars(
        select(AuditEvent).filter_by(action="service_unblocked").order_by(AuditEvent.id)
    ).all()
    assert [(e.object_id, e.channel) for e in events] == [("SVC-A", "api"), ("SVC-B", "staff")]


# ---------------------------------------------------------------- import-data and the API
def test_a_new_unpaid_payment_request_emits_blocked_and_a_reimport_nothing(app):
    doc = sample()
    _import(doc)
    # PR-1 is unpaid, S-1003 expired: created with the import, so no event.
    assert _events() == []
    doc["payment_requests"].append(
        {**doc["payment_requests"][1], "id": "PR-3", "service": "S-1002", "paid_on": None}
    )
    _import(doc)
    assert _events() == [("service_blocked", "S-1002", "unpaid", "PR-3")]
    _import(doc)  # unchanged
    assert len(_events()) == 1
    _import(changed(doc, "payment_requests", 2, paid_on="2027-02-02"))
    assert _events()[-1] == ("service_unblocked", "S-1002", "unpaid", "PR-3")


def test_state_changes_through_import_block_and_unblock(app):
    doc = sample()
    _import(doc)
    _import(changed(doc, "services", 1, state="terminating"))
    _import(changed(doc, "services", 2, state="active"))  # S-1002 back; S-1003 renewed
    assert _events() == [
        ("service_blocked", "S-1002", "terminating", None),
        ("service_unblocked", "S-1002", "terminating", None),
        ("service_unblocked", "S-1003", "expired", None),
    ]


def test_dry_run_lists_the_changes_and_emits_nothing(runner, tmp_path, app):
    _import(sample())
    doc = changed(sample(), "services", 1, state="expired")
    path = tmp_path / "data.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(args=["import-data", "--dry-run", str(path)])
    assert result.exit_code == 0, result.output
    assert "S-1002: service_blocked (expired)" in result.output
    assert _events() == []


def test_a_payment_request_put_through_the_api_emits_blocked(client, make):
    svc = make.service(make.account("novak", code="novak0001"), external_id="SVC-1")
    api = _api(client, "read,sync")
    body = {
        "service": "SVC-1",
        "issued_on": "2027-01-30",
        "due_on": "2027-02-09",
        "amount": "10.00",
        "currency": "CZK",
        "paid_on": None,
    }
    response = api.put("/payment-requests/PR-9", json=body)
    assert response.status_code == 201, response.text
    assert _events() == [("service_blocked", "SVC-1", "unpaid", "PR-9")]
    feed = api.get("/events?type=service_blocked").get_json()["items"]
    assert [(e["object_id"], e["details"]["payment_request"]) for e in feed] == [("SVC-1", "PR-9")]
    assert feed[0]["channel"] == "api" and svc.external_id == "SVC-1"


def test_a_customer_key_sees_the_block_events_of_its_own_services(client, make):
    novak, other = make.account("novak"), make.account("svoboda")
    mine = make.service(other, payer=novak, external_id="SVC-MINE")
    theirs = make.service(other, external_id="SVC-THEIRS")
    for svc in (mine, theirs):
        billing.mark_paid(make.payment_request(svc), billing.today())
    _key, secret = create_key("novak", ["read"], novak)
    db.session.commit()
    feed = ApiClient(client, secret).get("/events?type=service_unblocked").get_json()["items"]
    assert [e["object_id"] for e in feed] == ["SVC-MINE"]


def test_termination_in_the_panel_emits_blocked(app, make):
    owner = make.account("novak")
    svc = make.service(owner, external_id="SVC-T")
    services.terminate(svc, owner)
    assert _events() == [("service_blocked", "SVC-T", "terminating", None)]


# ---------------------------------------------------------------- webhooks
def test_blocked_and_unblocked_reach_a_subscribed_receiver(receiver, make):  # noqa: F811
    endpoint = webhooks.create_endpoint(receiver.url, BLOCK_EVENTS)
    db.session.commit()
    svc = make.service(make.account("novak"), external_id="SVC-W")
    pr = make.payment_request(svc, external_id="PR-W")
    billing.mark_paid(pr, billing.today())
    deliver()
    [event] = receiver.events(endpoint.secret)  # verified with standardwebhooks
    assert event["type"] == "service_unblocked"
    assert event["data"]["details"] == {
        "service": "SVC-W",
        "reason": "unpaid",
        "payment_request": "PR-W",
        "reasons": [{"reason": "unpaid", "payment_request": "PR-W"}],
    }
    assert db.session.scalar(select(Service.state).filter_by(external_id="SVC-W")) == "active"


def test_the_new_event_types_can_be_subscribed_to():
    assert set(BLOCK_EVENTS) <= set(webhooks.EVENT_TYPES)
