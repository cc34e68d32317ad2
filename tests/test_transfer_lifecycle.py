"""The life cycle of a transfer request: links, confirmations, execution, end states, page."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from cession_app.extensions import db
from cession_app.models import Service, TransferItem
from cession_app.transfers import operations
from tests.lifecycle_helpers import (
    audit_actions,
    confirm_all,
    deliver,
    fresh,
    html_of,
    link_for,
    outbox,
    push,
    text_of,
)


def owner_payer(service_id):
    """(owner_id, payer_id) of a service as stored now."""
    db.session.expire_all()
    service = db.session.get(Service, service_id)
    return service.owner_id, service.payer_id


# ---------------------------------------------------------------- whole flows
def test_push_whole_flow_moves_owner_and_payer(app, client, make, smtp):
    novak = make.account("novak", language="pl")
    svoboda = make.account("svoboda", language="cs")
    web = make.service(novak, domain="novak.cz", kind="webhosting")
    dom = make.service(novak, domain="novak.cz", kind="domain")
    req = push(make, novak, svoboda, web, dom, notify_email="office@example.test")
    assert deliver()["mails"] == 3

    # Each account confirms once, though svoboda becomes owner AND payer: one link each.
    assert [p.role_list for p in req.parties if p.account_id == svoboda.id] == [
        ["owner_to", "payer_to"]
    ]
    assert len(smtp.to(svoboda.email)) == 1 and len(smtp.to(novak.email)) == 1
    assert "novak.cz" in html_of(smtp.to(svoboda.email)[0])
    svoboda_link = link_for(smtp, svoboda.email)

    page = client.get(svoboda_link)  # a mail scanner following the link changes nothing
    assert page.status_code == 200
    assert "novak.cz" in page.text and "Potvrdit převod" in page.text  # the party's language
    assert fresh(req.id).state == "awaiting"
    assert all(p.confirmed_at is None for p in fresh(req.id).parties)

    assert "převod jste potvrdili" in client.post(svoboda_link, data={"confirm": "1"}).text
    assert fresh(req.id).state == "awaiting"
    client.post(link_for(smtp, novak.email), data={"confirm": "1"})
    assert fresh(req.id).state == "confirmed"

    assert deliver()["executed"] == 1
    assert owner_payer(web.id) == (svoboda.id, svoboda.id)
    assert owner_payer(dom.id) == (svoboda.id, svoboda.id)
    req = fresh(req.id)
    assert req.state == "executed" and req.ended_at is not None
    assert not any(item.active for item in req.items)
    ended = {m.recipient: m.language for m in outbox("request_ended")}
    # The extra address reads the initiator's language.
    assert ended == {novak.email: "pl", svoboda.email: "cs", "office@example.test": "pl"}
    deliver()
    executed_mail = smtp.to(svoboda.email)[-1]
    assert "WHOIS" in text_of(executed_mail) and "WHOIS" in html_of(executed_mail)
    assert audit_actions(req.id) == [
        "transfer_requested",
        "transfer_confirmed",
        "transfer_confirmed",
        "transfer_fully_confirmed",
        "transfer_executed",
    ]


def test_pull_whole_flow(app, client, make, smtp):
    novak = make.account("novak", language="de")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = operations.create_request(
        svoboda, direction="pull", domain="novak.cz", other=novak, service_ids=[web.id]
    )
    deliver()
    confirm_all(client, smtp, req)
    assert fresh(req.id).state == "confirmed"
    deliver()
    assert owner_payer(web.id) == (svoboda.id, svoboda.id)
    assert fresh(req.id).state == "executed"
    assert {m.recipient: m.language for m in outbox("request_ended")} == {
        novak.email: "de",
        svoboda.email: "en",
    }


def test_owner_only_keeps_the_payer(app, client, make, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web, change="owner")
    assert {p.account_id: p.role_list for p in req.parties} == {
        novak.id: ["owner_from"],
        svoboda.id: ["owner_to"],
    }
    deliver()
    confirm_all(client, smtp, req)
    deliver()
    assert owner_payer(web.id) == (svoboda.id, novak.id)


def test_payer_only_keeps_the_owner(app, client, make, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web, change="payer")
    deliver()
    confirm_all(client, smtp, req)
    deliver()
    assert owner_payer(web.id) == (novak.id, svoboda.id)
    assert fresh(req.id).state == "executed"


def test_party_that_only_loses_the_payer_role_is_notified_and_told_the_end(app, client, make, smtp):
    novak = make.account("novak")
    accountant = make.account("accountant", language="cs")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz", payer=accountant)
    req = push(make, novak, svoboda, web)
    deliver()
    assert [m.template for m in outbox() if m.recipient == accountant.email] == ["request_notice"]
    confirm_all(client, smtp, req)
    deliver()
    assert owner_payer(web.id) == (svoboda.id, svoboda.id)
    assert [(m.template, m.language) for m in outbox() if m.recipient == accountant.email] == [
        ("request_notice", "cs"),
        ("request_ended", "cs"),
    ]


def test_one_confirmation_is_not_enough(app, client, make, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    deliver()
    client.post(link_for(smtp, novak.email), data={"confirm": "1"})
    assert deliver()["executed"] == 0
    assert fresh(req.id).state == "awaiting"
    assert owner_payer(web.id) == (novak.id, novak.id)


# ---------------------------------------------------------------- other end states
def test_decline_by_link_ends_the_request_and_releases_the_lock(app, client, make, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web, notify_email="office@example.test")
    deliver()
    response = client.post(link_for(smtp, svoboda.email), data={"decline": "1"})
    assert "You have declined the transfer" in response.text
    req = fresh(req.id)
    assert req.state == "declined" and req.ended_at is not None
    assert req.party_for(svoboda.id).declined_at is not None
    assert owner_payer(web.id) == (novak.id, novak.id)
    assert {m.recipient for m in outbox("request_ended")} == {
        novak.email,
        svoboda.email,
        "office@example.test",
    }
    deliver()
    assert "has been declined" in text_of(smtp.to("office@example.test")[-1])
    # The service is free again.
    again = push(make, novak, svoboda, web)
    assert again.state == "awaiting"


def test_initiator_cancels_on_the_page(app, client, make, log_in, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    log_in("svoboda")
    assert client.post(f"/transfers/requests/{req.id}/cancel").status_code == 403
    assert fresh(req.id).state == "awaiting"
    client.post("/logout")
    log_in("novak")
    page = client.get(f"/transfers/requests/{req.id}")
    assert "Cancel the request" in page.text
    response = client.post(f"/transfers/requests/{req.id}/cancel", follow_redirects=True)
    assert "The request has been cancelled" in response.text
    assert "Cancelled" in response.text and "Cancel the request" not in response.text
    assert fresh(req.id).state == "cancelled"
    assert db.session.scalar(db.select(db.func.count()).where(TransferItem.active)) == 0
    assert {m.recipient for m in outbox("request_ended")} == {novak.email, svoboda.email}
    response = client.post(f"/transfers/requests/{req.id}/cancel", follow_redirects=True)
    assert "already ended" in response.text


def test_expiry_and_one_reminder(app, client, make, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda", language="pl")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    client.post(operations.confirm_link(req, req.party_for(novak.id)), data={"confirm": "1"})
    expires_at = fresh(req.id).expires_at

    assert operations.remind_due(expires_at - timedelta(days=3)) == 0
    assert operations.remind_due(expires_at - timedelta(days=1)) == 1
    assert operations.remind_due(expires_at - timedelta(hours=1)) == 0  # once
    reminders = outbox("reminder")
    assert [(m.recipient, m.language) for m in reminders] == [(svoboda.email, "pl")]
    assert "/respond/" in reminders[0].text_body

    assert operations.expire_due(expires_at - timedelta(seconds=1)) == 0
    assert operations.expire_due(expires_at + timedelta(seconds=1)) == 1
    req = fresh(req.id)
    assert req.state == "expired" and not req.items[0].active
    assert {m.recipient for m in outbox("request_ended")} == {novak.email, svoboda.email}
    # The reminder's link no longer works.
    link = reminders[0].text_body.split("http://cession.test", 1)[1].split()[0]
    assert client.get(link).status_code == 410


def test_execution_fails_when_a_payment_request_appears_after_confirmation(
    app, client, make, log_in, smtp
):
    novak = make.account("novak")
    svoboda = make.account("svoboda", language="de")
    web = make.service(novak, domain="novak.cz")
    dom = make.service(novak, domain="novak.cz", kind="domain")
    req = push(make, novak, svoboda, web, dom)
    deliver()
    confirm_all(client, smtp, req)
    assert fresh(req.id).state == "confirmed"
    make.payment_request(web, amount="250.00", currency="CZK")

    counts = deliver()
    assert counts["executed"] == 0
    req = fresh(req.id)
    assert req.state == "failed"
    assert owner_payer(web.id) == (novak.id, novak.id)
    assert owner_payer(dom.id) == (novak.id, novak.id)  # all or nothing
    assert not any(item.active for item in req.items)
    failed = outbox("request_ended")
    assert {m.recipient: m.language for m in failed} == {novak.email: "en", svoboda.email: "de"}
    assert "payment request" in next(m for m in failed if m.recipient == novak.email).text_body

    log_in("novak")
    page = client.get(f"/transfers/requests/{req.id}").text
    assert "Failed" in page
    assert "a payment request of" in page and "is not paid" in page and "Please pay it" in page


def test_execution_fails_when_the_owner_changed_meanwhile(app, client, make, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    third = make.account("third")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    deliver()
    confirm_all(client, smtp, req)
    db.session.get(Service, web.id).payer_id = third.id  # changed by the billing system
    db.session.commit()
    deliver()
    assert fresh(req.id).state == "failed"
    assert owner_payer(web.id) == (novak.id, third.id)
    assert any("no longer has the owner or payer" in t for t in operations.failure_texts(req))


# ---------------------------------------------------------------- the request's page
def test_page_is_for_parties_and_staff_only(app, client, make, log_in):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    make.account("stranger")
    make.account("boss", staff=True)
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    url = f"/transfers/requests/{req.id}"
    assert client.get(url).status_code == 302  # log in first
    log_in("stranger")
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/cancel").status_code == 404
    assert client.post(f"{url}/answer", data={"confirm": "1"}).status_code == 404
    assert client.post(f"{url}/parties/{novak.id}/resend").status_code == 404
    assert client.get("/transfers/requests/999999").status_code == 404
    client.post("/logout")
    log_in("boss")
    page = client.get(url)
    assert page.status_code == 200 and "novak.cz" in page.text
    assert "Cancel the request" not in page.text and "Confirm the transfer" not in page.text
    assert fresh(req.id).state == "awaiting"


def test_page_shows_state_parties_services_and_lets_a_party_confirm(app, client, make, log_in):
    novak = make.account("novak", timezone="Asia/Tokyo")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz", kind="webhosting")
    req = push(make, novak, svoboda, web)
    party = fresh(req.id).party_for(svoboda.id)
    party.confirmed_at = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    db.session.commit()

    log_in("novak")
    page = client.get(f"/transfers/requests/{req.id}").text
    for text in (
        "Awaiting confirmation",
        "novak.cz",
        "Webhosting",
        web.external_id,
        "Owner and payer",
        "Current owner",
        "Future owner",
        "Future payer",
        "Not confirmed yet",
        "Resend link",
        "Cancel the request",
        "Confirm the transfer",
    ):
        assert text in page, text
    assert "Confirmed on 1 Jan 2030, 21:00 +0900" in page  # 12:00 UTC in Tokyo
    assert page.count("Resend link") == 1  # svoboda has confirmed already

    response = client.post(
        f"/transfers/requests/{req.id}/answer", data={"confirm": "1"}, follow_redirects=True
    )
    assert "you have confirmed" in response.text
    assert "Everyone has confirmed" in response.text
    assert fresh(req.id).state == "confirmed"
    again = client.post(
        f"/transfers/requests/{req.id}/answer", data={"confirm": "1"}, follow_redirects=True
    )
    assert "already" in again.text


def test_notified_party_cannot_confirm(app, client, make, log_in):
    novak = make.account("novak")
    accountant = make.account("accountant")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz", payer=accountant)
    req = push(make, novak, svoboda, web)
    log_in("accountant")
    page = client.get(f"/transfers/requests/{req.id}")
    assert "Only notified" in page.text and "Confirm the transfer" not in page.text
    answer = client.post(f"/transfers/requests/{req.id}/answer", data={"confirm": "1"})
    assert answer.status_code == 403


def test_resend_link_is_rate_limited_per_request(app, client, make, log_in, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    other_web = make.service(novak, domain="other.cz")
    req = push(make, novak, svoboda, web)
    req2 = push(make, novak, svoboda, other_web)
    log_in("novak")
    url = f"/transfers/requests/{req.id}/parties/{svoboda.id}/resend"
    for _ in range(3):
        response = client.post(url, follow_redirects=True)
        assert "A new confirmation link has been sent to Svoboda" in response.text
    refused = client.post(url)
    assert refused.status_code == 429
    assert "sent again too many times" in refused.text
    sent = [m for m in outbox("confirm_request") if m.recipient == svoboda.email]
    assert len(sent) == 1 + 3 + 1  # two requests, three resends
    # Another request has its own allowance.
    other = client.post(f"/transfers/requests/{req2.id}/parties/{svoboda.id}/resend")
    assert other.status_code == 302
    deliver()
    assert len(smtp.to(svoboda.email)) == 6


def test_resend_is_refused_for_a_party_that_has_answered(app, client, make, log_in):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    log_in("novak")
    client.post(f"/transfers/requests/{req.id}/answer", data={"confirm": "1"})
    response = client.post(
        f"/transfers/requests/{req.id}/parties/{novak.id}/resend", follow_redirects=True
    )
    assert "You have already answered" in response.text
    assert len(outbox("confirm_request")) == 2


def test_detail_page_needs_few_statements(app, client, make, log_in):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    accountant = make.account("accountant")
    services = [
        make.service(novak, domain="novak.cz", kind=kind, payer=accountant)
        for kind in ("webhosting", "domain", "email", "eshop")
    ]
    req = push(make, novak, svoboda, *services)
    log_in("novak")
    url = f"/transfers/requests/{req.id}"
    db.session.remove()  # the page starts from an empty session, as in production
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert page.status_code == 200 and "Only notified" in page.text
    # The account; the request with its parties, their accounts, its items and their
    # services (one statement); its history (its actors are parties: not read again).
    assert len(statements) == 3, statements


def test_no_answer_after_expiry_even_before_the_worker_runs(app, client, make, log_in):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    req = push(make, novak, svoboda, make.service(novak, domain="novak.cz"))
    fresh(req.id).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    log_in("novak")
    response = client.post(
        f"/transfers/requests/{req.id}/answer", data={"confirm": "1"}, follow_redirects=True
    )
    assert "This request has expired" in response.text
    assert fresh(req.id).party_for(novak.id).confirmed_at is None
