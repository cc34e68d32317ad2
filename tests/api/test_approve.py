"""POST /api/v1/transfers/{id}/approve: the staff console's approval, for the reseller."""

from cession_app.extensions import db
from cession_app.models import AuditEvent
from tests.lifecycle_helpers import confirm_all, deliver, fresh, push


def _confirmed(make, client, smtp):
    novak, kowalska = make.account("novak"), make.account("kowalska")
    request = push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    deliver()
    confirm_all(client, smtp, request)
    return fresh(request.id)


def test_approve_through_the_api_and_the_worker_executes(app, api, make, client, smtp):
    app.config["REQUIRE_APPROVAL"] = True
    request = _confirmed(make, client, smtp)
    assert request.state == "approval"
    response = api.post(f"/transfers/{request.id}/approve")
    assert response.status_code == 200, response.text
    assert response.get_json()["state"] == "confirmed"
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="transfer_approved"))
    assert (event.channel, event.actor_id) == ("api", None)
    deliver()
    assert fresh(request.id).state == "executed"
    again = api.post(f"/transfers/{request.id}/approve")
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert again.get_json()["code"] == "not_awaiting_approval"
    assert "not waiting for approval" in again.get_json()["detail"]


def test_a_request_not_waiting_for_approval_is_refused(app, api, make):
    app.config["REQUIRE_APPROVAL"] = True
    novak, kowalska = make.account("novak"), make.account("kowalska")
    request = push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    response = api.post(f"/transfers/{request.id}/approve")
    assert response.status_code == 409
    assert response.get_json()["code"] == "not_awaiting_approval"
    assert fresh(request.id).state == "awaiting"


def test_approval_off_is_refused_with_its_own_code(api, make, client, smtp):
    request = _confirmed(make, client, smtp)
    response = api.post(f"/transfers/{request.id}/approve", headers={"Accept-Language": "de"})
    assert response.status_code == 409 and response.get_json()["code"] == "approval_off"
    assert response.headers["Content-Language"] == "de"
    assert "Approval" not in response.get_json()["detail"]  # translated


def test_approve_is_idempotent_and_needs_the_transfers_scope(app, api, api_as, make, client, smtp):
    app.config["REQUIRE_APPROVAL"] = True
    request = _confirmed(make, client, smtp)
    read_only = api_as("read")
    assert read_only.post(f"/transfers/{request.id}/approve").get_json()["code"] == "missing_scope"
    account_key = api_as("transfers", account=request.initiator)
    refused = account_key.post(f"/transfers/{request.id}/approve")
    assert refused.status_code == 403 and refused.get_json()["code"] == "account_key"
    headers = {"Idempotency-Key": "approve-1"}
    first = api.post(f"/transfers/{request.id}/approve", headers=headers)
    second = api.post(f"/transfers/{request.id}/approve", headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.get_json() == second.get_json()
    approvals = db.session.scalars(db.select(AuditEvent).filter_by(action="transfer_approved"))
    assert len(approvals.all()) == 1
    assert api.post("/transfers/999999/approve").status_code == 404


def test_approve_is_in_the_openapi_document(api):
    document = api.get("/openapi.json").get_json()
    operation = document["paths"]["/transfers/{request_id}/approve"]["post"]
    assert operation["x-scope"] == "transfers"
    names = [p["name"] for p in operation["parameters"]]
    assert "Idempotency-Key" in names
