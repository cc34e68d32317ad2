"""Re-issued tax documents after a transfer: the billing close, the offer, staff, the mail."""

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import select

from cession_app import site_settings, worker
from cession_app.billing import operations as billing_ops
from cession_app.billing import rules
from cession_app.extensions import db
from cession_app.models import (
    AuditEvent,
    OutboxMessage,
    TaxDocumentRequest,
    TransferItem,
    TransferParty,
    TransferRequest,
)
from tests.test_billing import count_statements

CREATED = date(2026, 3, 10)
EXECUTED = date(2026, 3, 13)
PAID = date(2026, 3, 12)


def _at(day):
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def executed_transfer(old, new, services, *, created=CREATED, executed=EXECUTED, change="both"):
    """An executed push transfer of ``services`` from ``old`` to ``new``, built directly."""
    transfer = TransferRequest(
        direction="push",
        change=change,
        domain=services[0].domain,
        initiator_id=old.id,
        from_account_id=old.id,
        to_account_id=new.id,
        state="executed",
        created_at=_at(created),
        expires_at=_at(created) + timedelta(days=14),
        confirmed_at=_at(executed),
        ended_at=_at(executed),
    )
    for svc in services:
        new_owner = new.id if change in ("both", "owner") else svc.owner_id
        new_payer = new.id if change in ("both", "payer") else svc.payer_id
        transfer.items.append(
            TransferItem(
                service_id=svc.id,
                active=False,
                old_owner_id=svc.owner_id,
                old_payer_id=svc.payer_id,
                new_owner_id=new_owner,
                new_payer_id=new_payer,
            )
        )
        svc.owner_id, svc.payer_id = new_owner, new_payer
    for account, roles in ((old, "owner_from,payer_from"), (new, "owner_to,payer_to")):
        transfer.parties.append(
            TransferParty(
                account_id=account.id, roles=roles, must_confirm=True, confirmed_at=_at(executed)
            )
        )
    db.session.add(transfer)
    db.session.commit()
    return transfer


@pytest.fixture
def moved(make):
    """novak's web hosting moved to svoboda; svoboda paid novak's payment request PR-7."""
    old = make.account("novak", name="Jan Novák")
    new = make.account(
        "svoboda",
        name="Petr Svoboda",
        language="cs",
        billing_name="Svoboda a syn s.r.o.",
        billing_address="Náměstí 1\n602 00 Brno",
        vat_id="CZ987654",
    )
    make.account("staffer", staff=True)
    svc = make.service(old, domain="novak.cz", external_id="S-1")
    pr = make.payment_request(
        svc,
        external_id="PR-7",
        amount="450.00",
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 11),
        paid_on=PAID,
    )
    old_pr = make.payment_request(
        svc, external_id="PR-OLD", issued_on=date(2025, 3, 1), paid_on=date(2025, 3, 5)
    )
    transfer = executed_transfer(old, new, [svc])
    return {"old": old, "new": new, "svc": svc, "pr": pr, "old_pr": old_pr, "transfer": transfer}


def _fixed_today(monkeypatch, day):
    monkeypatch.setattr(billing_ops, "today", lambda: day)


# ---------------------------------------------------------------- the rules (fixed clock)
def test_billing_close_default_and_moved_by_setting():
    assert rules.billing_close(date(2026, 3, 12)) == date(2026, 3, 31)
    assert rules.billing_close(date(2028, 2, 3), 0) == date(2028, 2, 29)
    assert rules.billing_close(date(2026, 3, 12), 10) == date(2026, 4, 10)
    assert rules.billing_close(date(2026, 12, 5), 5) == date(2027, 1, 5)
    assert rules.billing_close(date(2026, 1, 15), 31) == date(2026, 2, 28)


@pytest.mark.parametrize(
    "close_day, last_ok, first_refused, close_text",
    [
        (0, date(2026, 3, 31), date(2026, 4, 1), "31 Mar 2026"),
        (10, date(2026, 4, 10), date(2026, 4, 11), "10 Apr 2026"),
    ],
)
def test_rule_accepts_until_the_close_and_refuses_after_it(
    app, moved, close_day, last_ok, first_refused, close_text
):
    transfer, pr, new = moved["transfer"], moved["pr"], moved["new"]
    with app.test_request_context():
        assert (
            rules.tax_document_reasons(transfer, pr, new.id, today=last_ok, close_day=close_day)
            == []
        )
        reasons = rules.tax_document_reasons(
            transfer, pr, new.id, today=first_refused, close_day=close_day
        )
        assert [r.code for r in reasons] == ["closed"]
        assert close_text in str(reasons[0])


def test_rule_other_reasons(app, make, moved):
    transfer, pr, new, old = moved["transfer"], moved["pr"], moved["new"], moved["old"]
    today = date(2026, 3, 20)

    def codes(payment_request, account_id, **kwargs):
        found = rules.tax_document_reasons(
            transfer, payment_request, account_id, today=today, **kwargs
        )
        return [r.code for r in found]

    with app.test_request_context():
        assert codes(pr, old.id) == ["not_new_owner"]
        assert codes(moved["old_pr"], new.id) == ["window"]
        assert codes(pr, new.id, already_requested=True) == ["duplicate"]
        unpaid = make.payment_request(moved["svc"], external_id="PR-U")
        assert codes(unpaid, new.id) == ["unpaid"]
        mine = make.payment_request(moved["svc"], external_id="PR-MINE", paid_on=PAID)
        assert codes(mine, new.id) == ["already_yours"]
        transfer.state = "failed"
        assert codes(pr, new.id) == ["not_new_owner"]
        db.session.rollback()


# ---------------------------------------------------------------- the operation and the routes
@pytest.mark.parametrize("close_day, last_ok", [(0, date(2026, 3, 31)), (10, date(2026, 4, 10))])
def test_request_is_accepted_before_the_close_with_the_new_owners_details(
    app, moved, close_day, last_ok
):
    app.config["BILLING_CLOSE_DAY"] = close_day
    tdr = billing_ops.request_tax_document(moved["transfer"], moved["pr"], moved["new"], last_ok)
    assert tdr.payment_request_id == moved["pr"].id and tdr.done_at is None
    assert "Svoboda a syn s.r.o." in tdr.billing_details and "CZ987654" in tdr.billing_details
    event = db.session.scalar(select(AuditEvent).filter_by(action="tax_document_requested"))
    assert event.actor_id == moved["new"].id and event.details["payment_request"] == "PR-7"
    with pytest.raises(billing_ops.BillingRefused):  # once per payment
        billing_ops.request_tax_document(moved["transfer"], moved["pr"], moved["new"], last_ok)


@pytest.mark.parametrize(
    "close_day, too_late, close_text",
    [(0, date(2026, 4, 1), "31 Mar 2026"), (10, date(2026, 4, 11), "10 Apr 2026")],
)
def test_request_after_the_close_is_refused_with_the_reason(
    app, client, log_in, moved, monkeypatch, close_day, too_late, close_text
):
    app.config["BILLING_CLOSE_DAY"] = close_day
    _fixed_today(monkeypatch, too_late)
    log_in("svoboda")
    moved["new"].language = "en"
    db.session.commit()
    transfer_id = moved["transfer"].id
    response = client.post(f"/billing/transfers/{transfer_id}/tax-documents/PR-7")
    assert response.headers["Location"].endswith(f"/transfers/requests/{transfer_id}")
    page = client.get("/billing/").get_data(as_text=True)
    assert "billing close" in page and close_text in page
    assert db.session.scalar(select(TaxDocumentRequest)) is None


def test_route_accepts_new_owner_only(client, log_in, make, moved, monkeypatch):
    _fixed_today(monkeypatch, date(2026, 3, 20))
    make.account("stranger")
    transfer_id = moved["transfer"].id
    url = f"/billing/transfers/{transfer_id}/tax-documents/PR-7"
    log_in("stranger")
    assert client.post(url).status_code == 404
    assert client.post("/billing/transfers/999/tax-documents/PR-7").status_code == 404
    client.post("/logout")
    log_in("novak")  # a party, but not the new owner
    client.post(url)
    assert "Only the new owner" in client.get("/billing/").get_data(as_text=True)
    assert db.session.scalar(select(TaxDocumentRequest)) is None
    client.post("/logout")
    log_in("svoboda")
    assert client.post(f"/billing/transfers/{transfer_id}/tax-documents/PR-NOPE").status_code == 404
    assert client.post(url).status_code == 302
    tdr = db.session.scalar(select(TaxDocumentRequest))
    assert tdr.requester_id == moved["new"].id and tdr.transfer_id == transfer_id


# ---------------------------------------------------------------- the offer on the request's page
def _render_offer(app, account, transfer):
    with app.test_request_context():
        login_user(account)
        db.session.expire_all()
        transfer = db.session.get(TransferRequest, transfer.id)
        _ = transfer.items  # loaded with the request's page already
        site_settings.get("SUPPORT_EMAIL")  # read once per request, by the page around it
        with count_statements() as seen:
            html = render_template(
                "billing/_tax_document_offer.html", request=transfer, current_user=account
            )
    return html, len(seen)


def test_offer_for_the_new_owner_in_one_query(app, moved, monkeypatch):
    _fixed_today(monkeypatch, date(2026, 3, 20))
    moved["new"].language = "en"
    db.session.commit()
    html, statements = _render_offer(app, moved["new"], moved["transfer"])
    assert statements <= 1
    assert 'data-pr="PR-7"' in html and "PR-OLD" not in html  # paid long before the transfer
    assert f'action="/billing/transfers/{moved["transfer"].id}/tax-documents/PR-7"' in html
    assert 'name="csrf_token"' in html and "Svoboda a syn s.r.o." in html
    billing_ops.request_tax_document(
        moved["transfer"], moved["pr"], moved["new"], date(2026, 3, 20)
    )
    html, statements = _render_offer(app, moved["new"], moved["transfer"])
    assert statements <= 1
    assert "waiting for our staff" in html and "<form" not in html


def test_offer_shows_the_reason_after_the_close_and_nothing_to_others(app, moved, monkeypatch):
    _fixed_today(monkeypatch, date(2026, 4, 2))
    moved["new"].language = "en"
    db.session.commit()
    html, _ = _render_offer(app, moved["new"], moved["transfer"])
    assert "31 Mar 2026" in html and "<form" not in html
    html, statements = _render_offer(app, moved["old"], moved["transfer"])
    assert html.strip() == "" and statements == 0


# ---------------------------------------------------------------- staff and the mail
def test_staff_see_request_mark_it_done_and_requester_gets_mail(
    app, client, log_in, moved, smtp, monkeypatch
):
    tdr = billing_ops.request_tax_document(
        moved["transfer"], moved["pr"], moved["new"], date(2026, 3, 20)
    )
    log_in("staffer")
    page = client.get("/staff/").get_data(as_text=True)
    row = page[page.index(f'data-tdr="{tdr.id}"') :]
    assert "PR-7" in row and "Petr Svoboda" in row and "Svoboda a syn s.r.o." in row
    assert "Mark done" in row
    client.post(f"/staff/tax-documents/{tdr.id}/done")
    db.session.refresh(tdr)
    assert tdr.done_at is not None
    assert db.session.scalar(select(AuditEvent).filter_by(action="tax_document_done"))
    outbox = db.session.scalar(select(OutboxMessage).filter_by(template="tax_document_done"))
    assert outbox.language == "cs"  # the requester's language
    assert worker.run_once()["mails"] == 1
    (mail,) = smtp.to(moved["new"].email)
    assert "PR-7" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert (
        "PR-7" in text and "Svoboda a syn s.r.o." in text and "http://cession.test/billing/" in text
    )
    assert "PR-7" in html and "Svoboda a syn s.r.o." in html
    # Marking it again sends nothing more.
    client.post(f"/staff/tax-documents/{tdr.id}/done")
    assert "already been marked done" in client.get("/staff/").get_data(as_text=True)
    assert worker.run_once()["mails"] == 0
    client.post("/logout")
    log_in("svoboda")
    assert "PR-7" in client.get("/billing/").get_data(as_text=True)
