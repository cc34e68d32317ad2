"""The transfer page and its two wizards, through the client, as a customer uses them."""

import re
from datetime import timedelta
from html import unescape

import pytest
from babel.dates import format_date
from sqlalchemy import event, select

from cession_app import worker
from cession_app.extensions import db
from cession_app.models import TransferItem, TransferRequest
from cession_app.models.base import utcnow
from cession_app.transfers import operations
from tests import factories
from tests.test_billing import count_statements

COUNTERPARTY_MESSAGE = (
    "We could not find another customer account with these details."
    " Please check them with the other customer."
)
NO_CASE_MESSAGE = "No services of this business case can be transferred between these accounts."


# ---------------------------------------------------------------- helpers
def text(response):
    """The page as a reader sees the characters (entities decoded)."""
    return unescape(response.get_data(as_text=True))


def run_url(response):
    """The wizard run's base URL from a redirect to one of its steps."""
    assert response.status_code == 302, text(response)
    match = re.search(r"/transfers/wizard/run/[^/]+", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(0)


def step1(client, direction, domain, **who):
    """Post step 1; returns the response."""
    return client.post(f"/transfers/wizard/{direction}", data={"domain": domain, **who})


def through_step2(client, direction, domain, service_ids, change="both", email="", **who):
    """Steps 1 and 2; returns the run's base URL (now at the review step)."""
    run = run_url(step1(client, direction, domain, **who))
    response = client.post(
        f"{run}/services",
        data={"services": [str(i) for i in service_ids], "change": change, "notify_email": email},
    )
    assert response.headers["Location"].endswith(f"{run}/review"), text(response)
    return run


def submit(client, run):
    """Post the review step's Submit button."""
    return client.post(f"{run}/review", data={"submit": "Submit, free of charge"})


def row(page, external_id):
    """The table row of one service on a page."""
    start = page.index(f'data-service="{external_id}"')
    return page[start : page.index("</tr>", start)]


def requests_in_db():
    """All transfer requests."""
    return db.session.scalars(select(TransferRequest).order_by(TransferRequest.id)).all()


def first_error(page):
    """The texts of the reasons shown in the problems box."""
    return re.findall(r'<li class="reason reason-\w+">\s*(.*?)\s*(?:<|$)', page)


# ---------------------------------------------------------------- the transfer page
def test_transfer_page_offers_both_wizards(client, make, log_in):
    make.account("novak", code="novakcode1")
    log_in("novak")
    page = text(client.get("/transfers/"))
    assert "Transfer services to another customer" in page
    assert "Transfer services to my account" in page
    assert "/transfers/wizard/push" in page and "/transfers/wizard/pull" in page
    assert "novakcode1" in page
    assert "You have no transfer requests yet." in page


def test_my_services_transfer_link_prefills_the_domain(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    make.service(me, domain="novak.cz")
    make.service(other, domain="svoboda.cz", payer=me)
    log_in("novak")
    services = text(client.get("/services/"))
    assert "/transfers/?domain=novak.cz" in services
    assert "/transfers/?domain=svoboda.cz" not in services  # I only pay there
    response = client.get("/transfers/?domain=novak.cz", follow_redirects=True)
    page = text(response)
    assert "Step 1 of 3" in page
    assert 'value="novak.cz"' in page
    assert "Transfer services to another customer" in page


# ---------------------------------------------------------------- whole wizards
def test_push_wizard_by_code_end_to_end(client, make, log_in, smtp):
    me = make.account("novak", name="Jan Novak", language="en", timezone="Europe/Warsaw")
    other = make.account("svoboda", name="Petr Svoboda", language="cs")
    web = make.service(me, domain="novak.cz", kind="webhosting")
    dom = make.service(me, domain="novak.cz", kind="domain")
    make.service(me, domain="other.cz", kind="email")
    log_in("novak")

    response = step1(client, "push", " Novak.CZ ", code=other.code.upper())
    run = run_url(response)
    page = text(client.get(f"{run}/services"))
    assert "Step 2 of 3" in page
    assert "Petr Svoboda" in page and other.code in page
    assert web.external_id in page and dom.external_id in page
    assert "E-mail" not in row(page, web.external_id)  # only this business case is listed
    assert format_date(web.expires_on, "d MMM y", locale="en") in row(page, web.external_id)
    assert "This address is only told about the transfer" in page

    response = client.post(
        f"{run}/services",
        data={"services": [web.id, dom.id], "change": "both", "notify_email": "info@example.org"},
    )
    assert response.headers["Location"].endswith(f"{run}/review")
    page = text(client.get(f"{run}/review"))
    assert "Step 3 of 3" in page
    assert "novak.cz" in page and "Petr Svoboda" in page
    assert "WHOIS" in page and "separately on the domain" in page
    assert (
        f'href="/services/{dom.external_id}#holder-change"' in page
    )  # the pointer to the holder change
    assert "Submit, free of charge" in page
    confirming = page[page.index('class="parties confirming"') :]
    assert "Jan Novak" in confirming and "Petr Svoboda" in confirming
    assert "info@example.org" in page[page.index("Only notified") :]

    response = submit(client, run)
    assert response.status_code == 302
    (created,) = requests_in_db()
    assert response.headers["Location"].endswith(f"/transfers/requests/{created.id}")
    assert (created.direction, created.domain, created.change) == ("push", "novak.cz", "both")
    assert created.from_account_id == me.id and created.to_account_id == other.id
    assert {(i.service_id, i.new_owner_id, i.new_payer_id) for i in created.items} == {
        (web.id, other.id, other.id),
        (dom.id, other.id, other.id),
    }
    assert {p.account_id: p.must_confirm for p in created.parties} == {me.id: True, other.id: True}

    flashed = text(client.get("/transfers/"))
    assert "Confirmation links are on their way to: Jan Novak, Petr Svoboda" in flashed
    worker.run_once()
    assert len(smtp.to(me.email)) == 1 and len(smtp.to(other.email)) == 1
    assert len(smtp.to("info@example.org")) == 1
    assert "/transfers/requests/" in smtp.to(other.email)[0].get_body(("plain",)).get_content()


def test_pull_wizard_by_login_and_number_owner_only(client, make, log_in, smtp):
    me = make.account("novak", name="Jan Novak")
    other = make.account("svoboda", name="Petr Svoboda", number="778899")
    web = make.service(other, domain="svoboda.cz", kind="webhosting")
    log_in("novak")
    run = through_step2(
        client, "pull", "svoboda.cz", [web.id], change="owner", login="svoboda", number="778899"
    )
    page = text(client.get(f"{run}/review"))
    assert "Transfer services to my account" in page and "Owner only" in page
    response = submit(client, run)
    assert response.status_code == 302
    (created,) = requests_in_db()
    assert (created.direction, created.change) == ("pull", "owner")
    assert created.from_account_id == other.id and created.to_account_id == me.id
    (item,) = created.items
    assert (item.new_owner_id, item.new_payer_id) == (me.id, other.id)
    assert {p.account_id: p.roles for p in created.parties} == {
        me.id: "owner_to",
        other.id: "owner_from",
    }
    worker.run_once()
    assert smtp.to(me.email) and smtp.to(other.email)


def test_payer_only_push_notifies_the_old_payer(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda", name="Petr Svoboda")
    old_payer = make.account("karel", name="Karel Payer")
    web = make.service(me, domain="novak.cz", payer=old_payer)
    log_in("novak")
    run = through_step2(client, "push", "novak.cz", [web.id], change="payer", code=other.code)
    page = text(client.get(f"{run}/review"))
    confirming = page[page.index('class="parties confirming"') : page.index("Only notified")]
    notified = page[page.index("Only notified") :]
    assert "Petr Svoboda" in confirming and "Karel Payer" not in confirming
    assert "Karel Payer" in notified and "Current payer" in notified
    submit(client, run)
    (created,) = requests_in_db()
    assert created.party_for(old_payer.id).must_confirm is False


# ---------------------------------------------------------------- step 1 refusals
def test_unknown_code_mismatch_and_own_account_give_one_message(client, make, log_in):
    me = make.account("novak", number="111111")
    make.account("svoboda", number="222222")
    make.service(me, domain="novak.cz")
    log_in("novak")
    attempts = [
        {"code": "nosuchcode"},
        {"login": "svoboda", "number": "111111"},  # mismatch: my number, its login
        {"code": me.code},  # own account
        {"login": "novak", "number": "111111"},  # own account by login and number
    ]
    for who in attempts:
        response = step1(client, "push", "novak.cz", **who)
        page = text(response)
        assert response.status_code == 200
        assert first_error(page) == [COUNTERPARTY_MESSAGE], who
    assert "transfer_wizards" not in (client.get_cookie("session").value or "")


def test_code_or_login_and_number_are_required(client, make, log_in):
    make.account("novak")
    log_in("novak")
    page = text(step1(client, "push", "novak.cz"))
    assert "Please enter the customer code, or the login name and the customer number." in page
    page = text(step1(client, "push", "novak.cz", login="svoboda"))
    assert "Please enter both the login name and the customer number." in page


def test_push_needs_services_i_own(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    make.service(other, domain="svoboda.cz", payer=me)
    log_in("novak")
    page = text(step1(client, "push", "svoboda.cz", code=other.code))
    assert "You own no services of the business case svoboda.cz." in page


def test_stranger_cannot_pull_services_the_other_does_not_own(client, make, log_in):
    stranger = make.account("stranger")
    owner = make.account("novak")
    accomplice = make.account("svoboda")
    make.service(owner, domain="novak.cz")
    log_in("stranger")
    owned_by_someone_else = text(step1(client, "pull", "novak.cz", code=accomplice.code))
    unknown_domain = text(step1(client, "pull", "nothing-here.cz", code=accomplice.code))
    assert first_error(owned_by_someone_else) == first_error(unknown_domain)
    assert NO_CASE_MESSAGE in owned_by_someone_else
    # An unknown code (or my own) gives the same message: the wizard tells no one which
    # customer codes exist (issue 10: 8).
    for code in ("nosuchcode", stranger.code):
        unknown = text(step1(client, "pull", "novak.cz", code=code))
        assert first_error(unknown) == first_error(owned_by_someone_else), code
    assert requests_in_db() == []


def test_forged_service_ids_are_not_accepted(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    mine = make.service(me, domain="novak.cz")
    foreign = make.service(other, domain="novak.cz")  # same domain, someone else's
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    page = text(client.get(f"{run}/services"))
    assert foreign.external_id not in page
    response = client.post(f"{run}/services", data={"services": [foreign.id], "change": "both"})
    assert "Please choose at least one service of this business case." in text(response)
    client.post(f"{run}/services", data={"services": [mine.id, foreign.id], "change": "both"})
    submit(client, run)
    (created,) = requests_in_db()
    assert [i.service_id for i in created.items] == [mine.id]


# ---------------------------------------------------------------- step 2: rules
def test_each_rule_refuses_with_its_reason(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    third = make.account("third", name="Third Owner")
    unpaid = make.service(me, domain="novak.cz", kind="webhosting")
    pr = make.payment_request(unpaid, amount="199.00", currency="CZK", due_in=9)
    expired = make.service(me, domain="novak.cz", kind="email", state="expired", days=-3)
    ending = make.service(me, domain="novak.cz", kind="eshop", state="terminating")
    locked = make.service(me, domain="novak.cz", kind="domain")
    not_mine = make.service(third, domain="novak.cz", kind="webhosting", payer=me)
    fine = make.service(me, domain="novak.cz", kind="webhosting")
    operations.create_request(
        me, direction="push", domain="novak.cz", other=third, service_ids=[locked.id]
    )
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    page = text(client.get(f"{run}/services"))

    unpaid_row = row(page, unpaid.external_id)
    assert "disabled" in unpaid_row
    assert "CZK" in unpaid_row and "199.00" in unpaid_row
    assert format_date(pr.due_on, "d MMM y", locale="en") in unpaid_row
    assert "would shorten the time to pay" in unpaid_row
    assert f'href="/billing/documents/{pr.external_id}"' in unpaid_row  # the payment page
    assert "How to pay it: bank details and QR code" in unpaid_row
    assert ".DE domains 5 days" in unpaid_row and "10-day period" in unpaid_row
    for svc in (expired, ending):
        assert "renew it first" in row(page, svc.external_id)
        assert "disabled" in row(page, svc.external_id)
    assert "already part of an open transfer request" in row(page, locked.external_id)
    assert "Only the owner of a service can transfer it" in row(page, not_mine.external_id)
    assert "disabled" not in row(page, fine.external_id)

    # Ticking blocked services anyway (a forged POST) does not get them into the request.
    client.post(
        f"{run}/services",
        data={"services": [unpaid.id, expired.id, fine.id], "change": "both"},
    )
    response = submit(client, run)
    assert response.status_code == 302
    created = requests_in_db()[-1]
    assert [i.service_id for i in created.items] == [fine.id]


def test_unpaid_request_paid_by_someone_else_names_the_payer(client, make, log_in):
    make.account("novak")
    other = make.account("svoboda")
    payer = make.account("karel", name="Karel Payer")
    svc = make.service(other, domain="svoboda.cz", payer=payer)
    make.payment_request(svc, amount="1200.00", currency="EUR")
    log_in("novak")
    run = run_url(step1(client, "pull", "svoboda.cz", code=other.code))
    unpaid_row = row(text(client.get(f"{run}/services")), svc.external_id)
    assert "This payment request is paid by Karel Payer" in unpaid_row
    assert "/billing/" not in unpaid_row
    assert "€1,200.00" in unpaid_row


def test_nothing_to_change_is_refused(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    svc = make.service(other, domain="svoboda.cz", payer=me)
    log_in("novak")
    run = run_url(step1(client, "pull", "svoboda.cz", code=other.code))
    response = client.post(f"{run}/services", data={"services": [svc.id], "change": "payer"})
    assert response.status_code == 200
    assert "Nothing would change for this service" in text(response)


def test_invalid_extra_address_is_refused(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    response = client.post(
        f"{run}/services", data={"services": [svc.id], "change": "both", "notify_email": "nope"}
    )
    assert response.status_code == 200
    assert "Please enter a valid e-mail address." in text(response)


def test_refusal_at_submit_shows_the_reason_and_creates_nothing(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    run = through_step2(client, "push", "novak.cz", [svc.id], code=other.code)
    make.payment_request(svc, amount="99.00")  # issued while the wizard was open
    response = submit(client, run)
    page = text(response)
    assert response.status_code == 200
    assert "This request cannot be submitted" in page
    assert "would shorten the time to pay" in page
    assert "Submit, free of charge" not in page
    assert requests_in_db() == []


def test_create_request_refusal_is_shown_on_review(client, make, log_in, monkeypatch):
    me = make.account("novak")
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    run = through_step2(client, "push", "novak.cz", [svc.id], code=other.code)

    def refuse(*args, **kwargs):
        raise operations.TransferRefused(
            {None: [operations.rules.Reason("locked", "Someone was faster.")]}
        )

    monkeypatch.setattr(operations, "create_request", refuse)
    page = text(submit(client, run))
    assert "Someone was faster." in page
    assert requests_in_db() == []


# ---------------------------------------------------------------- back, forward, double submit
def test_back_keeps_the_entered_values(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    web = make.service(me, domain="novak.cz", kind="webhosting")
    dom = make.service(me, domain="novak.cz", kind="domain")
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    response = client.post(
        f"{run}/services",
        data={
            "services": [dom.id],
            "change": "payer",
            "notify_email": "x@example.org",
            "back": "Back",
        },
    )
    assert response.headers["Location"].endswith(f"{run}/party")
    page = text(client.get(f"{run}/party"))
    assert 'value="novak.cz"' in page and f'value="{other.code}"' in page
    response = client.post(f"{run}/party", data={"domain": "novak.cz", "code": other.code})
    assert response.headers["Location"].endswith(f"{run}/services")
    page = text(client.get(f"{run}/services"))
    assert "checked" in row(page, dom.external_id)
    assert "checked" not in row(page, web.external_id)
    assert re.search(r'value="payer"[^>]*checked|checked[^>]*value="payer"', page)
    assert 'value="x@example.org"' in page
    # Forward to the review and back again: still the same choice.
    client.post(
        f"{run}/services",
        data={"services": [dom.id], "change": "payer", "notify_email": "x@example.org"},
    )
    client.post(f"{run}/review", data={"back": "Back"})
    assert "checked" in row(text(client.get(f"{run}/services")), dom.external_id)


def test_double_submit_creates_one_request(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    run = through_step2(client, "push", "novak.cz", [svc.id], code=other.code)
    before = client.get_cookie("session").value
    first = submit(client, run)
    # The second click still carries the old session (sent before the first answer came).
    client.set_cookie("session", before)
    second = submit(client, run)
    third = submit(client, run)
    assert first.headers["Location"] == second.headers["Location"] == third.headers["Location"]
    assert len(requests_in_db()) == 1
    assert db.session.query(TransferItem).count() == 1


def test_a_run_belongs_to_its_account(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    make.service(me, domain="novak.cz")
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    client.post("/logout")
    log_in("svoboda")
    response = client.get(f"{run}/services", follow_redirects=True)
    assert "This transfer form has expired. Please start again." in text(response)
    assert client.get("/transfers/wizard/run/unknown/review").status_code == 302


# ---------------------------------------------------------------- overview
def _request_between(initiator, other, domain, minutes_ago):
    svc = factories.service(initiator, domain=domain)
    created = operations.create_request(
        initiator, direction="push", domain=domain, other=other, service_ids=[svc.id]
    )
    created.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return created


def test_overview_lists_my_requests_newest_first_with_pages(app, app_config, make, client, log_in):
    app.config["PAGE_SIZE"] = 2
    me = make.account("novak")
    other = make.account("svoboda", name="Petr Svoboda")
    third = make.account("third")
    _request_between(me, other, "oldest.cz", 30)
    _request_between(other, me, "incoming.cz", 20)
    _request_between(me, other, "newest.cz", 10)
    _request_between(other, third, "someone-else.cz", 5)
    log_in("novak")
    page1 = text(client.get("/transfers/"))
    assert page1.index("newest.cz") < page1.index("incoming.cz")
    assert "oldest.cz" not in page1 and "someone-else.cz" not in page1
    assert "Page 1 of 2" in page1 and "Awaiting confirmation" in page1
    assert "Petr Svoboda" in page1 and "Incoming" in page1 and "Outgoing" in page1
    newest = db.session.scalar(select(TransferRequest).filter_by(domain="newest.cz"))
    assert f'href="/transfers/requests/{newest.id}"' in page1
    page2 = text(client.get("/transfers/?page=2"))
    assert "oldest.cz" in page2 and "newest.cz" not in page2
    assert "someone-else.cz" not in page2


def test_overview_uses_a_fixed_number_of_queries(app, make, client, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    log_in("novak")

    def statements_for_page():
        seen = []

        def count(*args):
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/transfers/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return [s for s in seen if not s.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT"))]

    for n in range(3):
        _request_between(me, other, f"case{n}.cz", n)
    few = statements_for_page()
    for n in range(3, 15):
        _request_between(other if n % 2 else me, me if n % 2 else other, f"case{n}.cz", n)
    many = statements_for_page()
    assert len(few) == len(many) <= 6


def test_a_page_of_the_overview_holds_whole_requests_with_all_their_services(
    app, make, client, log_in
):
    """The page's requests are read with their services in one statement: a page of two
    requests of three services each shows both with every service, and counts requests."""
    app.config["PAGE_SIZE"] = 2
    me = make.account("novak")
    other = make.account("svoboda")
    for n, domain in enumerate(("first.cz", "second.cz", "third.cz")):
        ids = [
            factories.service(me, domain=domain, kind=kind).id
            for kind in ("webhosting", "email", "domain")
        ]
        created = operations.create_request(
            me, direction="push", domain=domain, other=other, service_ids=ids
        )
        created.created_at = utcnow() - timedelta(minutes=30 - n)
    empty = operations.create_request(  # its items removed below: a request without any
        me, direction="push", domain="gone.cz", other=other,
        service_ids=[factories.service(me, domain="gone.cz").id],
    )  # fmt: skip
    empty.created_at = utcnow() - timedelta(minutes=60)
    db.session.execute(TransferItem.__table__.delete().where(TransferItem.request_id == empty.id))
    db.session.commit()
    log_in("novak")
    with count_statements() as seen:
        page1 = text(client.get("/transfers/"))
    rows = re.findall(r'<tr data-request="\d+">(.*?)</tr>', page1, re.S)
    assert len(rows) == 2 and "Page 1 of 2" in page1
    assert "third.cz" in rows[0] and "second.cz" in rows[1] and "first.cz" not in page1
    for row in rows:
        assert "Domain, E-mail, Webhosting" in " ".join(row.split())
    reads = [s for s in seen if "transfer_requests" in s or "transfer_items" in s]
    assert len(reads) == 1 and "services.kind" in reads[0]  # the page with its services
    page2 = text(client.get("/transfers/?page=2"))
    rows = re.findall(r'<tr data-request="\d+">(.*?)</tr>', page2, re.S)
    assert len(rows) == 2 and "Page 2 of 2" in page2
    assert "first.cz" in rows[0] and "gone.cz" in rows[1]
    assert "Domain, E-mail, Webhosting" in " ".join(rows[0].split())


# ---------------------------------------------------------------- CSRF
def _token(page):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def csrf_on(app_config):
    """CSRF protection on, as in production (must come before ``app``/``client``)."""
    app_config["WTF_CSRF_ENABLED"] = True


def test_post_without_csrf_token_changes_nothing(csrf_on, app, client, make):
    assert app.config["WTF_CSRF_ENABLED"] is True
    me = make.account("novak")
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    token = _token(text(client.get("/login")))
    client.post("/login", data={"login": "novak", "password": make.PASSWORD, "csrf_token": token})
    token = _token(text(client.get("/transfers/wizard/push")))
    response = client.post(
        "/transfers/wizard/push", data={"domain": "novak.cz", "code": other.code}
    )
    assert response.status_code == 400
    assert "transfer_wizards" not in client.get_cookie("session").value
    response = client.post(
        "/transfers/wizard/push",
        data={"domain": "novak.cz", "code": other.code, "csrf_token": token},
    )
    run = run_url(response)
    client.post(
        f"{run}/services", data={"services": [svc.id], "change": "both", "csrf_token": token}
    )
    response = client.post(f"{run}/review", data={"submit": "Submit, free of charge"})
    assert response.status_code == 400
    assert "Your form has expired" in text(response)
    assert requests_in_db() == []
    response = client.post(
        f"{run}/review", data={"submit": "Submit, free of charge", "csrf_token": token}
    )
    assert response.status_code == 302
    assert len(requests_in_db()) == 1
