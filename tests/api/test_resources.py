"""Accounts, services, payment requests: listing with cursors and filters, sync, mark paid."""

import json

from sqlalchemy import select

from cession_app.extensions import db
from cession_app.models import AuditEvent, PaymentRequest, Service
from tests.test_dataio import sample


def test_lists_are_paged_by_cursor(api, make):
    codes = [make.account(f"user{n}x").code for n in range(5)]
    seen, after = [], ""
    for _ in range(3):
        page = api.get(f"/accounts?limit=2&after={after}").get_json()
        seen += [a["code"] for a in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == codes and after is None


def test_bad_paging_arguments_are_clear_problems(api):
    for query, field in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=9" * 30, "limit"),
        ("after=abc", "after"),
        ("after=" + "9" * 40, "after"),
    ):
        response = api.get(f"/accounts?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["errors"][0]["field"] == field


def test_services_filter_by_domain_owner_payer_and_state(api, make):
    novak, kowalska = make.account("novak"), make.account("kowalska")
    a = make.service(novak, domain="novak.cz")
    b = make.service(novak, domain="novak.cz", payer=kowalska, state="expired")
    make.service(kowalska, domain="kowalska.pl")

    def ids(query):
        return [s["id"] for s in api.get(f"/services?{query}").get_json()["items"]]

    assert ids("domain=novak.cz") == [a.external_id, b.external_id]
    assert ids(f"owner={novak.code}") == [a.external_id, b.external_id]
    assert ids(f"payer={kowalska.code}&domain=novak.cz") == [b.external_id]
    assert ids("state=expired") == [b.external_id]
    assert ids("owner=nobody") == []
    assert api.get("/services?state=gone").status_code == 400


def _put_sample(api):
    doc = sample()
    for acc in doc["accounts"]:
        assert api.put(f"/accounts/{acc['code']}", json=acc).status_code == 201
    for svc in doc["services"]:
        assert api.put(f"/services/{svc['id']}", json=svc).status_code == 201
    for pr in doc["payment_requests"]:
        assert api.put(f"/payment-requests/{pr['id']}", json=pr).status_code == 201
    return doc


def test_sync_creates_then_updates_by_external_id(api):
    doc = _put_sample(api)
    svc = dict(doc["services"][0], auto_renew=False)
    response = api.put(f"/services/{svc['id']}", json=svc)
    assert response.status_code == 200 and response.get_json()["auto_renew"] is False
    again = api.put(f"/services/{svc['id']}", json=svc)
    assert again.status_code == 200
    assert api.get("/payment-requests/PR-2").get_json()["paid_on"] == "2027-02-01"
    account = api.get("/accounts/egeelhil8").get_json()
    assert "password" not in account and account["login"] == "novak"
    synced = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("%_synced"))
    ).all()
    assert synced.count("service_synced") == 4  # 3 created, 1 updated, 1 unchanged (no event)


def test_sync_refuses_with_the_same_messages_as_import_translated(api):
    _put_sample(api)
    svc = dict(sample()["services"][2], state="gone")
    english = api.put("/services/S-1003", json=svc).get_json()
    assert english["status"] == 422 and english["code"] == "invalid_record"
    assert english["errors"] == [
        {
            "field": "state",
            "code": "choice",
            "detail": 'field "state" must be one of active, expired, terminating, not "gone"',
        }
    ]
    polish = api.put("/services/S-1003", json=svc, headers={"Accept-Language": "pl"})
    assert polish.get_json()["errors"][0]["detail"].startswith('pole "state" musi')
    assert db.session.scalar(select(Service.state).filter_by(external_id="S-1003")) == "expired"


def test_sync_refuses_a_dangling_reference_and_an_id_mismatch(api):
    _put_sample(api)
    svc = dict(sample()["services"][0], owner="nobody123")
    response = api.put("/services/S-1001", json=svc)
    assert response.status_code == 422
    assert 'no account with code "nobody123"' in response.get_json()["detail"]
    response = api.put("/services/S-9999", json=sample()["services"][0])
    assert response.status_code == 422 and response.get_json()["code"] == "id_mismatch"


def test_malformed_bodies_are_problems_never_errors(api):
    svc = json.dumps(sample()["services"][0])
    bodies = [
        b"{",
        b"[]",
        b"\xff\xfe",
        b"[" * 100000 + b"]" * 100000,
        svc.replace('"auto_renew": true', '"auto_renew": ' + "9" * 5000).encode(),
        svc.replace('"novak.cz"', '"\\ud800"').encode(),
        svc.replace('"webhosting"', '"web\\u0000hosting"').encode(),
    ]
    for body in bodies:
        response = api.client.put(
            "/api/v1/services/S-1001",
            data=body,
            headers={"Authorization": api._headers(None)["Authorization"]},
            content_type="application/json",
        )
        assert response.status_code in (400, 422), (body[:40], response.status_code)
        assert response.mimetype == "application/problem+json"
    response = api.put("/services/S-1001", data="x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_mark_paid_and_idempotent_replay(api, make):
    svc = make.service(make.account("novak"))
    pr = make.payment_request(svc)
    headers = {"Idempotency-Key": "pay-1"}
    first = api.post(f"/payment-requests/{pr.external_id}/paid", json={}, headers=headers)
    assert first.status_code == 200 and first.get_json()["paid_on"]
    again = api.post(f"/payment-requests/{pr.external_id}/paid", json={}, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    # Without the key, a second marking is refused: already paid.
    refused = api.post(f"/payment-requests/{pr.external_id}/paid", json={})
    assert refused.status_code == 409 and refused.get_json()["code"] == "refused"
    other = api.post(
        f"/payment-requests/{pr.external_id}/paid", json={"paid_on": "2020-01-01"}, headers=headers
    )
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
    events = db.session.scalars(select(AuditEvent).filter_by(action="payment_marked_paid")).all()
    assert len(events) == 1 and events[0].channel == "api"


def test_mark_paid_validates_the_date(api, make):
    pr = make.payment_request(make.service(make.account("novak")))
    response = api.post(f"/payment-requests/{pr.external_id}/paid", json={"paid_on": "1.1.2027"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "paid_on"
    assert db.session.scalar(select(PaymentRequest.paid_on)) is None


def test_openapi_document_validates_and_reference_page_lists_every_operation(api, client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert "/transfers/{request_id}/cancel" in document["paths"]
    assert document["components"]["schemas"]["ServiceRecord"]["required"]
    page = client.get("/api/v1/docs", headers={"Accept-Language": "de"})
    assert page.status_code == 200 and 'lang="de"' in page.get_data(as_text=True)
    for path, operations in document["paths"].items():
        for method in operations:
            assert f"{method.upper()} /api/v1{path}" in page.get_data(as_text=True)


def test_api_key_commands(runner, make):
    acc = make.account("novak")
    result = runner.invoke(args=["api-key", "create", "--name", "billing", "--scopes", "read,sync"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("cess_")
    bound = runner.invoke(
        args=["api-key", "create", "--name", "n", "--scopes", "read", "--account", acc.code]
    )
    assert bound.exit_code == 0
    bad = runner.invoke(args=["api-key", "create", "--name", "x", "--scopes", "admin"])
    assert bad.exit_code == 1 and "scopes must be" in bad.output
    listed = runner.invoke(args=["api-key", "list"]).output
    assert "billing" in listed and acc.code in listed and "never" in listed
    prefix = secret[:12]
    assert runner.invoke(args=["api-key", "revoke", prefix]).exit_code == 0
    assert "revoked" in runner.invoke(args=["api-key", "list"]).output
