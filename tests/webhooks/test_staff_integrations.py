"""Admins' staff pages for API keys and webhook endpoints (support: 403, customers: 404)."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from cession_app.api.auth import digest
from cession_app.extensions import db
from cession_app.models import Account, ApiKey, AuditEvent, WebhookDelivery, WebhookEndpoint
from cession_app.webhooks import operations as webhooks
from tests.lifecycle_helpers import deliver, push
from tests.webhooks.test_webhooks import receiver  # noqa: F401 (fixture)


def _page(response):
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def admin(make, log_in):
    """An admin, logged in."""
    make.account("boss", staff=True, staff_role="admin")
    return log_in("boss")


def _endpoint(url="https://billing.example/hook", events=("*",)):
    endpoint = webhooks.create_endpoint(url, events)
    db.session.commit()
    return endpoint


# ---------------------------------------------------------------- who may
def test_support_gets_403_and_customers_404(client, make, log_in):
    make.account("helper", staff=True, staff_role="support")
    make.account("jan")
    endpoint = _endpoint()
    gets = ["/staff/api-keys", "/staff/webhooks", f"/staff/webhooks/{endpoint.id}"]
    gets += [f"/staff/webhooks/{endpoint.id}/delete", "/staff/api-keys/1/revoke"]
    posts = ["/staff/api-keys", "/staff/webhooks", f"/staff/webhooks/{endpoint.id}/disabled"]
    posts += [f"/staff/webhooks/{endpoint.id}/delete", "/staff/webhooks/deliveries/1/redeliver"]
    data = {"name": "x", "scopes": "read", "url": "https://evil.example", "event_types": "*"}
    for login, status in (("helper", 403), ("jan", 404)):
        log_in(login)
        for url in gets:
            assert client.get(url).status_code == status, (login, url)
        for url in posts:
            assert client.post(url, data=data).status_code == status, (login, url)
        if login == "helper":
            assert "/staff/api-keys" not in _page(client.get("/staff/"))
        client.post("/logout")
    assert db.session.scalars(select(ApiKey)).all() == []
    assert db.session.scalar(select(WebhookEndpoint.enabled)) is True
    assert len(db.session.scalars(select(WebhookEndpoint)).all()) == 1


def test_staff_posts_need_a_csrf_token(app, client, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/staff/api-keys", data={"name": "x", "scopes": "read"})
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalars(select(ApiKey)).all() == []


# ---------------------------------------------------------------- API keys
def test_admin_creates_a_key_shown_once_that_works_then_revokes_it(client, admin):
    page = _page(client.post("/staff/api-keys", data={"name": "billing", "scopes": ["read"]}))
    secret = re.search(r"<code class=\"secret\" data-secret>(cess_[^<]+)</code>", page).group(1)
    assert "it will not be shown again" in page
    key = db.session.scalar(select(ApiKey))
    assert key.digest == digest(secret) and key.scope_list == ["read"]
    assert secret not in _page(client.get("/staff/api-keys"))  # shown once
    api = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/accounts", headers=api).status_code == 200
    listing = _page(client.get("/staff/api-keys"))
    assert "billing" in listing and "never" not in listing  # last used now
    confirm = _page(client.get(f"/staff/api-keys/{key.id}/revoke"))
    assert "Revoke the API key billing?" in confirm
    assert key.revoked_at is None  # asking changes nothing
    answer = client.post(f"/staff/api-keys/{key.id}/revoke", follow_redirects=True)
    assert "has been revoked" in _page(answer)
    assert client.get("/api/v1/accounts", headers=api).status_code == 401
    events = db.session.scalars(select(AuditEvent).filter_by(channel="staff")).all()
    assert [e.action for e in events] == ["api_key_created", "api_key_revoked"]
    boss = db.session.scalar(select(Account).filter_by(login="boss"))
    assert {e.actor_id for e in events} == {boss.id}  # who, in the audit trail


def test_a_key_needs_a_name_and_a_scope(client, admin):
    response = client.post("/staff/api-keys", data={"name": " ", "scopes": []})
    page = _page(response)
    assert response.status_code == 422
    assert "Please give the key a name." in page and "Please choose at least one scope." in page
    response = client.post("/staff/api-keys", data={"name": "x", "scopes": ["root"]})
    assert response.status_code == 422
    assert db.session.scalars(select(ApiKey)).all() == []
    assert client.get("/staff/api-keys/999/revoke").status_code == 404


# ---------------------------------------------------------------- webhook endpoints
def test_admin_registers_an_endpoint_and_sees_its_secret(client, admin):
    data = {"url": "https://billing.example/hook", "event_types": ["service_blocked"]}
    response = client.post("/staff/webhooks", data=data)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert response.headers["Location"] == f"/staff/webhooks/{endpoint.id}"
    assert endpoint.event_types == "service_blocked"
    page = _page(client.get(response.headers["Location"]))
    assert endpoint.secret in page and endpoint.secret.startswith("whsec_")
    assert "Service blocked for transfers" in page
    assert "https://billing.example/hook" in _page(client.get("/staff/webhooks"))


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://billing.example/hook", "must start with https://"),
        ("https://billing.example/a b", "without spaces"),
        ("", "Please enter the URL."),
    ],
)
def test_a_bad_url_is_refused_as_the_cli_refuses_it(client, admin, runner, url, message):
    response = client.post("/staff/webhooks", data={"url": url, "event_types": ["*"]})
    assert response.status_code == 422 and message in _page(response)
    if url:
        assert message in runner.invoke(args=["webhook", "add", url]).output
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_event_types_must_be_chosen_from_the_list(client, admin):
    for events in ([], ["nope"]):
        data = {"url": "https://billing.example/hook", "event_types": events}
        assert client.post("/staff/webhooks", data=data).status_code == 422
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_disable_enable_and_delete(client, admin, make):
    endpoint = _endpoint()
    novak, kowalska = make.account("novak"), make.account("kowalska")
    push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    page = _page(client.post(f"/staff/webhooks/{endpoint.id}/disabled", follow_redirects=True))
    assert "its events wait" in page
    db.session.refresh(endpoint)
    assert not endpoint.enabled and endpoint.disabled_at is not None
    client.post(f"/staff/webhooks/{endpoint.id}/enabled")
    db.session.refresh(endpoint)
    assert endpoint.enabled
    confirm = _page(client.get(f"/staff/webhooks/{endpoint.id}/delete"))
    assert "Delete the webhook endpoint" in confirm
    response = client.post(f"/staff/webhooks/{endpoint.id}/delete")
    assert response.headers["Location"] == "/staff/webhooks"
    db.session.expire_all()
    assert db.session.scalars(select(WebhookEndpoint)).all() == []
    assert db.session.scalars(select(WebhookDelivery)).all() == []
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "webhook_endpoint")
    ).all()
    assert actions[-3:] == [
        "webhook_endpoint_disabled",
        "webhook_endpoint_enabled",
        "webhook_endpoint_deleted",
    ]


def test_delivery_log_is_paged(app, client, admin, make):
    app.config["PAGE_SIZE"] = 2
    endpoint = _endpoint()
    novak, kowalska = make.account("novak"), make.account("kowalska")
    for n in range(3):
        push(make, novak, kowalska, make.service(novak, domain=f"novak{n}.cz"))
    first = _page(client.get(f"/staff/webhooks/{endpoint.id}"))
    assert first.count("data-delivery=") == 2 and "Page 1 of 2" in first
    assert f'href="/staff/webhooks/{endpoint.id}?page=2#deliveries"' in first
    second = _page(client.get(f"/staff/webhooks/{endpoint.id}?page=2"))
    assert second.count("data-delivery=") == 1


def test_a_redelivery_from_the_staff_log_arrives_verified(client, admin, make, receiver):  # noqa: F811
    endpoint = _endpoint(receiver.url)
    novak, kowalska = make.account("novak"), make.account("kowalska")
    push(make, novak, kowalska, make.service(novak, domain="novak.cz"))
    deliver()
    assert len(receiver.received) == 1
    log = _page(client.get(f"/staff/webhooks/{endpoint.id}"))
    assert "Transfer request made" in log or "Request made" in log
    assert "<code>200</code>" in log
    delivery_id = re.search(r'data-delivery="(\d+)"', log).group(1)
    answer = client.post(
        f"/staff/webhooks/deliveries/{delivery_id}/redeliver", follow_redirects=True
    )
    assert "will be sent again shortly" in _page(answer)
    deliver()
    assert len(receiver.received) == 2
    first, second = receiver.events(endpoint.secret)  # each verified (standardwebhooks)
    assert first == second and second["type"] == "transfer_requested"
    audited = db.session.scalar(select(AuditEvent).filter_by(action="webhook_redelivered"))
    assert audited.channel == "staff" and audited.details["delivery"] == int(delivery_id)
    assert client.post("/staff/webhooks/deliveries/999999/redeliver").status_code == 404
