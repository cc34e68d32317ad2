"""The payer's billing page and documents, staff marking payments, the mark-paid command."""

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event, select

from cession_app.billing import operations as billing_ops
from cession_app.extensions import db
from cession_app.models import AuditEvent, PaymentRequest
from cession_app.transfers import operations as transfer_ops


@contextmanager
def count_statements():
    """Count the SQL statements run inside the block."""
    seen = []

    def _count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def _row(page, external_id):
    """The HTML of the billing row of a payment request."""
    start = page.index(f'id="pr-{external_id}"')
    return page[start : page.index("</tr>", start)]


# ---------------------------------------------------------------- the payer's page
def test_payer_sees_billing_of_the_services_it_pays(client, make, log_in):
    owner = make.account("owner", name="Jana Nováková")
    payer = make.account("payer", language="de")
    svc = make.service(owner, domain="novak.cz", kind="eshop", payer=payer, external_id="S-77")
    make.payment_request(svc, external_id="PR-10", amount="1234.50", currency="EUR", due_in=12)
    make.payment_request(
        svc, external_id="PR-9", amount="99.00", currency="CZK", paid_on=date(2026, 1, 5)
    )
    mine = make.service(payer, domain="payer.de")
    make.payment_request(mine, external_id="PR-11", due_in=3)
    make.payment_request(make.service(owner, domain="own.cz"), external_id="PR-OWN")
    log_in("payer")
    page = client.get("/billing/").get_data(as_text=True)
    assert "PR-OWN" not in page  # paid by the owner, not by this account
    unpaid = _row(page, "PR-10")
    assert "1.234,50\xa0€" in unpaid  # German locale, the request's currency
    assert "Jana Nováková" in unpaid and "novak.cz" in unpaid and "S-77" in unpaid
    due = date.today() + timedelta(days=12)
    assert f"{due.day:02d}.{due.month:02d}.{due.year}" in unpaid
    # Unpaid first, the earliest due first; then the paid invoices with the paid date.
    assert page.index('id="pr-PR-11"') < page.index('id="pr-PR-10"') < page.index('id="pr-PR-9"')
    assert "05.01.2026" in _row(page, "PR-9")


def test_billing_page_gives_the_advice_for_unpaid_requests(client, make, log_in):
    me = make.account("me")
    make.payment_request(make.service(me, kind="eshop"), external_id="PR-1")
    log_in("me")
    page = client.get("/billing/").get_data(as_text=True)
    assert "E-shop" in _row(page, "PR-1") and "Unpaid" in _row(page, "PR-1")
    assert "Please pay it first, then start the transfer" in page
    assert ".DE domains 5 days" in page and "10-day period" in page


def test_billing_page_paginates_paid_invoices(app, client, make, log_in):
    app.config["PAGE_SIZE"] = 2
    me = make.account("me")
    svc = make.service(me)
    for day in range(1, 6):
        make.payment_request(svc, external_id=f"PR-P{day}", paid_on=date(2026, 3, day))
    log_in("me")
    first = client.get("/billing/").get_data(as_text=True)
    assert "PR-P5" in first and "PR-P4" in first and "PR-P3" not in first
    assert "Page 1 of 3" in first
    last = client.get("/billing/?page=3").get_data(as_text=True)
    assert "PR-P1" in last and "PR-P5" not in last


def test_billing_page_runs_a_handful_of_statements(client, make, log_in):
    me = make.account("me")
    for n in range(6):
        owner = make.account(f"owner{n}")
        svc = make.service(owner, domain=f"d{n}.cz", payer=me)
        make.payment_request(svc, external_id=f"PR-U{n}")
        make.payment_request(svc, external_id=f"PR-D{n}", paid_on=date(2026, 2, n + 1))
    log_in("me")
    with count_statements() as seen:
        page = client.get("/billing/").get_data(as_text=True)
    assert all(f"owner{n}".title() in page for n in range(6))
    assert len(seen) <= 6, seen


def test_document_shows_payer_billing_details_to_payer_and_staff_only(client, make, log_in):
    owner = make.account("owner")
    payer = make.account(
        "payer",
        billing_name="Payer s.r.o.",
        billing_address="Dlouhá 5\n110 00 Praha",
        vat_id="CZ123",
    )
    make.account("staffer", staff=True)
    svc = make.service(owner, domain="novak.cz", payer=payer)
    make.payment_request(svc, external_id="PR-5", amount="500.00")
    log_in("payer")
    page = client.get("/billing/documents/PR-5").get_data(as_text=True)
    assert "Payer s.r.o." in page and "Dlouhá 5" in page and "VAT ID: CZ123" in page
    assert "CZK" in page and "500.00" in page and "novak.cz" in page and "Unpaid" in page
    client.post("/logout")
    log_in("owner")  # the owner is not the payer: the document is not its
    assert client.get("/billing/documents/PR-5").status_code == 404
    assert client.get("/billing/documents/PR-NOPE").status_code == 404
    client.post("/logout")
    log_in("staffer")
    assert "Payer s.r.o." in client.get("/billing/documents/PR-5").get_data(as_text=True)


def test_after_payer_change_later_requests_go_to_the_new_payer(client, make, log_in):
    owner = make.account("owner")
    old = make.account("oldpayer")
    new = make.account("newpayer")
    svc = make.service(owner, domain="novak.cz", payer=old)
    make.payment_request(svc, external_id="PR-OLD", paid_on=date(2026, 1, 2))
    svc.payer_id = new.id  # as the transfer execution does
    db.session.commit()
    make.payment_request(svc, external_id="PR-NEW")
    log_in("oldpayer")
    page = client.get("/billing/").get_data(as_text=True)
    assert "PR-OLD" in page and "PR-NEW" not in page
    assert client.get("/billing/documents/PR-NEW").status_code == 404
    client.post("/logout")
    log_in("newpayer")
    page = client.get("/billing/").get_data(as_text=True)
    assert "PR-NEW" in page and "PR-OLD" not in page
    # The payer may not end or change the service...
    assert client.post(f"/services/{svc.external_id}/terminate").status_code == 403
    assert client.post(f"/services/{svc.external_id}", data={"auto_renew": ""}).status_code == 403
    db.session.refresh(svc)
    assert svc.state == "active" and svc.auto_renew is True
    client.post("/logout")
    # ...while the owner keeps all its rights.
    log_in("owner")
    client.post(f"/services/{svc.external_id}", data={"auto_renew": ""})
    client.post(f"/services/{svc.external_id}/terminate")
    db.session.refresh(svc)
    assert svc.auto_renew is False and svc.state == "terminating"


# ---------------------------------------------------------------- the unpaid block
def test_unpaid_block_shows_amount_due_date_and_way_out_and_lifts_when_paid(
    app, client, make, log_in
):
    owner = make.account("owner")
    other = make.account("other")
    make.account("staffer", staff=True)
    svc = make.service(owner, domain="novak.cz")
    pr = make.payment_request(svc, external_id="PR-B", amount="350.00", due_on=date(2026, 12, 3))
    with app.test_request_context():
        refused = transfer_ops.check_services(
            [svc], direction="push", initiator_id=owner.id, other_id=other.id
        )
        text = str(refused[svc][0])
        assert "CZK" in text and "350.00" in text and "3 Dec 2026" in text
        assert "Please pay it first" in text
        assert refused[svc][0].payment_request.external_id == "PR-B"
    log_in("staffer")
    response = client.post("/staff/payment-requests/PR-B/paid", data={})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PaymentRequest, pr.id).paid_on == billing_ops.today()
    db.session.refresh(svc)
    with app.test_request_context():
        assert (
            transfer_ops.check_services(
                [svc], direction="push", initiator_id=owner.id, other_id=other.id
            )
            == {}
        )


# ---------------------------------------------------------------- staff
def test_staff_page_lists_unpaid_searchable_and_marks_paid_with_audit(client, make, log_in):
    owner = make.account("owner")
    make.account("staffer", staff=True)
    a = make.service(owner, domain="alpha.cz")
    b = make.service(owner, domain="beta.de")
    make.payment_request(a, external_id="PR-A1")
    make.payment_request(b, external_id="PR-B1")
    make.payment_request(b, external_id="PR-PAID", paid_on=date(2026, 1, 1))
    log_in("staffer")
    page = client.get("/staff/").get_data(as_text=True)
    assert "PR-A1" in page and "PR-B1" in page and "PR-PAID" not in page
    assert 'href="/staff/"' in page  # the header link for staff
    found = client.get("/staff/?q=beta").get_data(as_text=True)
    assert "PR-B1" in found and "PR-A1" not in found
    assert "PR-A1" in client.get("/staff/?q=pr-a").get_data(as_text=True)
    client.post("/staff/payment-requests/PR-A1/paid", data={"paid_on": "2026-11-01"})
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id="PR-A1"))
    assert pr.paid_on == date(2026, 11, 1)
    event = db.session.scalar(select(AuditEvent).filter_by(action="payment_marked_paid"))
    assert event.object_id == "PR-A1" and event.details["paid_on"] == "2026-11-01"
    page = client.get("/staff/").get_data(as_text=True)
    assert "marked paid" in page and 'id="pr-PR-A1"' not in page
    # Marking it again changes nothing and says why.
    client.post("/staff/payment-requests/PR-A1/paid", data={"paid_on": "2026-11-02"})
    assert "already paid" in client.get("/staff/").get_data(as_text=True)
    db.session.refresh(pr)
    assert pr.paid_on == date(2026, 11, 1)


def test_staff_mark_paid_refuses_bad_dates(client, make, log_in):
    owner = make.account("owner")
    make.account("staffer", staff=True)
    pr = make.payment_request(make.service(owner), external_id="PR-X")
    log_in("staffer")
    client.post("/staff/payment-requests/PR-X/paid", data={"paid_on": "yesterday"})
    page = client.get("/staff/").get_data(as_text=True)
    assert "Not a valid date" in page
    future = (date.today() + timedelta(days=3)).isoformat()
    client.post("/staff/payment-requests/PR-X/paid", data={"paid_on": future})
    assert "cannot be in the future" in client.get("/staff/").get_data(as_text=True)
    db.session.refresh(pr)
    assert pr.paid_on is None


def test_non_staff_get_404_on_staff_pages(client, make, log_in):
    owner = make.account("owner")
    pr = make.payment_request(make.service(owner), external_id="PR-X")
    log_in("owner")
    page = client.get("/billing/").get_data(as_text=True)
    assert 'href="/staff/"' not in page
    assert client.get("/staff/").status_code == 404
    assert client.post("/staff/payment-requests/PR-X/paid").status_code == 404
    assert client.post("/staff/tax-documents/1/done").status_code == 404
    db.session.refresh(pr)
    assert pr.paid_on is None


# ---------------------------------------------------------------- the mark-paid command
def test_mark_paid_command(runner, make):
    owner = make.account("owner")
    pr = make.payment_request(make.service(owner), external_id="PR-1")
    result = runner.invoke(args=["mark-paid", "PR-1", "--on", "2026-10-30"])
    assert result.exit_code == 0, result.output
    assert "PR-1 marked paid on 2026-10-30" in result.output
    db.session.refresh(pr)
    assert pr.paid_on == date(2026, 10, 30)
    event = db.session.scalar(select(AuditEvent).filter_by(action="payment_marked_paid"))
    assert event.object_id == "PR-1" and event.details["source"] == "command"
    again = runner.invoke(args=["mark-paid", "PR-1"])
    assert again.exit_code != 0 and "already paid" in again.output
    unknown = runner.invoke(args=["mark-paid", "PR-404"])
    assert unknown.exit_code != 0 and "There is no payment request PR-404" in unknown.output
    bad = runner.invoke(args=["mark-paid", "PR-1", "--on", "30.10.2026"])
    assert bad.exit_code != 0


def test_mark_paid_command_defaults_to_today(runner, make):
    pr = make.payment_request(make.service(make.account("owner")), external_id="PR-2")
    assert runner.invoke(args=["mark-paid", "PR-2"]).exit_code == 0
    db.session.refresh(pr)
    assert pr.paid_on is not None and abs((pr.paid_on - date.today()).days) <= 1
