"""API keys: no key, wrong key, revoked key, missing scope, sessions, per-account keys."""

from sqlalchemy import select

from cession_app.api.auth import revoke_key
from cession_app.extensions import db
from cession_app.models import ApiKey
from tests.api.conftest import ApiClient


def _problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code, body
    return body


def test_no_key_is_refused_with_a_problem(client):
    response = ApiClient(client, None).get("/accounts")
    _problem(response, 401, "no_key")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_key_is_refused(client, api_key):
    api_key()
    _problem(ApiClient(client, "cess_not-a-real-key").get("/accounts"), 401, "bad_key")


def test_a_revoked_key_stops_working_at_once(client, api_key):
    key, secret = api_key()
    api = ApiClient(client, secret)
    assert api.get("/accounts").status_code == 200
    revoke_key(key)
    db.session.commit()
    _problem(api.get("/accounts"), 401, "revoked_key")


def test_a_key_without_the_scope_is_refused(client, api_key, make):
    api = ApiClient(client, api_key("read")[1])
    body = _problem(api.put("/services/S-1", json={}), 403, "missing_scope")
    assert "sync" in body["detail"]


def test_a_logged_in_session_does_not_authenticate_the_api(client, make, log_in):
    make.account("novak")
    log_in("novak")
    _problem(client.get("/api/v1/accounts"), 401, "no_key")


def test_keys_are_stored_hashed_and_last_use_recorded(client, api_key):
    key, secret = api_key()
    assert secret not in (key.digest, key.prefix) and len(key.digest) == 64
    assert key.last_used_at is None
    ApiClient(client, secret).get("/accounts")
    db.session.expire_all()
    assert db.session.scalar(select(ApiKey)).last_used_at is not None


def test_post_needs_no_csrf_token_with_a_key(app, api, make):
    app.config["WTF_CSRF_ENABLED"] = True
    svc = make.service(make.account("novak"))
    pr = make.payment_request(svc)
    response = api.post(f"/payment-requests/{pr.external_id}/paid", json={})
    assert response.status_code == 200, response.text


def test_problems_are_in_the_language_of_accept_language(client):
    api = ApiClient(client, None)
    titles = {
        lang: api.get("/accounts", headers={"Accept-Language": lang}).get_json()["title"]
        for lang in ("en", "pl", "cs", "de")
    }
    assert titles["en"] == "An API key is needed."
    assert len(set(titles.values())) == 4, titles


def test_unknown_paths_and_methods_answer_problems_not_pages(api):
    _problem(api.get("/nothing-here"), 404, "not_found")
    _problem(api.client.delete("/api/v1/accounts"), 405, "method_not_allowed")


# ---------------------------------------------------------------- one account's key
def test_an_account_key_sees_only_its_own_objects(client, api_key, make):
    novak, other = make.account("novak"), make.account("other")
    mine = make.service(novak, domain="novak.cz")
    theirs = make.service(other, domain="other.cz")
    their_pr = make.payment_request(theirs)
    api = ApiClient(client, api_key("read,transfers", account=novak)[1])
    assert [a["code"] for a in api.get("/accounts").get_json()["items"]] == [novak.code]
    assert api.get(f"/accounts/{other.code}").status_code == 404
    assert [s["id"] for s in api.get("/services").get_json()["items"]] == [mine.external_id]
    assert api.get(f"/services/{theirs.external_id}").status_code == 404
    assert api.get(f"/payment-requests/{their_pr.external_id}").status_code == 404
    assert api.get("/payment-requests").get_json()["items"] == []


def test_an_account_key_cannot_see_or_cancel_others_transfers(client, api_key, make):
    from tests.lifecycle_helpers import push

    a, b, c = make.account("alpha"), make.account("beta"), make.account("gamma")
    request = push(make, a, b, make.service(a, domain="alpha.cz"))
    api = ApiClient(client, api_key("read,transfers", account=c)[1])
    assert api.get(f"/transfers/{request.id}").status_code == 404
    assert api.post(f"/transfers/{request.id}/cancel").status_code == 404
    assert api.get("/transfers").get_json()["items"] == []
    events = api.get("/events").get_json()["items"]
    assert all(e["object_id"] != str(request.id) for e in events)


def test_an_account_key_cannot_act_for_another_account(client, api_key, make):
    a, b = make.account("alpha"), make.account("beta")
    make.service(b, domain="beta.cz")
    api = ApiClient(client, api_key("read,transfers", account=a)[1])
    body = {"account": b.code, "direction": "push", "domain": "beta.cz", "other": a.code}
    response = api.post("/transfers", json=dict(body, services=["S-1"]))
    assert _problem(response, 422, "not_own_account")["errors"][0]["field"] == "account"


def test_an_account_key_cannot_sync(client, api_key, make):
    acc = make.account("alpha")
    from cession_app.api.auth import KeyRefused, create_key

    try:
        create_key("x", ["sync"], acc)
    except KeyRefused:
        db.session.rollback()
    else:
        raise AssertionError("an account key got the sync scope")
