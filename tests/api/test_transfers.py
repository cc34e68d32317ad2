"""Transfer requests through the API: the wizard's rules, mail links, execution, events."""

from sqlalchemy import select

from cession_app.extensions import db
from cession_app.models import TransferRequest
from tests.lifecycle_helpers import confirm_all, deliver, fresh


def _body(initiator, other, *services, **extra):
    return {
        "account": initiator.code,
        "direction": "push",
        "domain": services[0].domain,
        "other": other.code,
        "services": [s.external_id for s in services],
        **extra,
    }


def test_an_api_transfer_is_confirmed_by_mail_links_and_executed(api, client, make, smtp):
    novak, kowalska = make.account("novak"), make.account("kowalska")
    web = make.service(novak, domain="novak.cz")
    mail = make.service(novak, domain="novak.cz", kind="email")
    response = api.post("/transfers", json=_body(novak, kowalska, web, mail))
    assert response.status_code == 201, response.text
    created = response.get_json()
    assert created["state"] == "awaiting" and created["initiator"] == novak.code
    assert {p["account"]: p["state"] for p in created["parties"]} == {
        novak.code: "waiting",
        kowalska.code: "waiting",
    }
    deliver()
    confirm_all(client, smtp, fresh(created["id"]))
    deliver()
    shown = api.get(f"/transfers/{created['id']}").get_json()
    assert shown["state"] == "executed"
    assert {s["new_owner"] for s in shown["services"]} == {kowalska.code}
    events = api.get("/events?limit=100").get_json()["items"]
    kinds = [e["type"] for e in events if e["object_id"] == str(created["id"])]
    assert kinds[0] == "transfer_requested" and kinds[-1] == "transfer_executed"
    assert "transfer_fully_confirmed" in kinds
    assert api.get(f"/services/{web.external_id}").get_json()["owner"] == kowalska.code


def test_the_wizards_rules_refuse_with_the_same_reasons(api, make):
    novak, kowalska = make.account("novak"), make.account("kowalska")
    svc = make.service(novak, domain="novak.cz")
    make.payment_request(svc)
    response = api.post("/transfers", json=_body(novak, kowalska, svc))
    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "transfer_refused"
    assert body["errors"][0]["code"] == "unpaid" and body["errors"][0]["service"] == svc.external_id
    assert "has been issued and is not paid" in body["errors"][0]["detail"]
    polish = api.post(
        "/transfers", json=_body(novak, kowalska, svc), headers={"Accept-Language": "pl"}
    )
    assert polish.get_json()["errors"][0]["detail"] != body["errors"][0]["detail"]
    assert db.session.scalar(select(TransferRequest.id)) is None


def test_an_unknown_counterparty_gets_the_wizards_single_message(api, make):
    novak = make.account("novak")
    svc = make.service(novak, domain="novak.cz")
    body = dict(_body(novak, novak, svc), other="nobody999")
    errors = api.post("/transfers", json=body).get_json()["errors"]
    assert [e["code"] for e in errors] == ["counterparty"]


def test_invalid_transfer_fields_are_listed_per_field(api, make):
    novak = make.account("novak")
    body = {
        "account": novak.code,
        "direction": "sideways",
        "domain": "Novak.CZ",
        "other": "a b",
        "services": [],
        "colour": "red",
    }
    response = api.post("/transfers", json=body)
    assert response.status_code == 422
    fields = [e["field"] for e in response.get_json()["errors"]]
    assert fields == ["direction", "domain", "other", "services", "colour"]


def test_an_idempotent_create_makes_one_request(api, make):
    novak, kowalska = make.account("novak"), make.account("kowalska")
    svc = make.service(novak, domain="novak.cz")
    headers = {"Idempotency-Key": "create-1"}
    first = api.post("/transfers", json=_body(novak, kowalska, svc), headers=headers)
    second = api.post("/transfers", json=_body(novak, kowalska, svc), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert len(db.session.scalars(select(TransferRequest)).all()) == 1


def test_cancel_through_the_api(api, make, smtp):
    novak, kowalska = make.account("novak"), make.account("kowalska")
    svc = make.service(novak, domain="novak.cz")
    created = api.post("/transfers", json=_body(novak, kowalska, svc)).get_json()
    response = api.post(f"/transfers/{created['id']}/cancel")
    assert response.status_code == 200 and response.get_json()["state"] == "cancelled"
    again = api.post(f"/transfers/{created['id']}/cancel")
    assert again.status_code == 409 and again.get_json()["code"] == "refused"


def test_transfers_list_filters(api, make):
    novak, kowalska = make.account("novak"), make.account("kowalska")
    a = make.service(novak, domain="novak.cz")
    b = make.service(kowalska, domain="kowalska.pl")
    first = api.post("/transfers", json=_body(novak, kowalska, a)).get_json()
    second = api.post("/transfers", json=_body(kowalska, novak, b)).get_json()
    api.post(f"/transfers/{second['id']}/cancel")

    def ids(query):
        return [t["id"] for t in api.get(f"/transfers?{query}").get_json()["items"]]

    assert ids("state=awaiting") == [first["id"]]
    assert ids("domain=kowalska.pl") == [second["id"]]
    assert ids(f"account={novak.code}") == [first["id"], second["id"]]
    assert ids("created_from=2000-01-01&created_to=2000-01-02") == []
    assert api.get("/transfers?created_from=yesterday").status_code == 400


def test_events_feed_polls_from_a_cursor(api, make):
    novak = make.account("novak")
    pr = make.payment_request(make.service(novak))
    page = api.get("/events").get_json()
    cursor = page["next"]
    api.post(f"/payment-requests/{pr.external_id}/paid", json={})
    newer = api.get(f"/events?after={cursor or ''}").get_json()
    assert [e["type"] for e in newer["items"]] == ["payment_marked_paid", "service_unblocked"]
    assert {e["channel"] for e in newer["items"]} == {"api"}
    assert api.get(f"/events?after={newer['next']}").get_json()["items"] == []
