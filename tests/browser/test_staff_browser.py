"""In a real browser: a party's mailbox is dead; support finds the request by its domain; an
admin confirms on the party's behalf; the transfer executes."""

import pytest

from cession_app import worker
from cession_app.extensions import db
from cession_app.models import TransferRequest
from cession_app.transfers import operations
from tests.factories import PASSWORD
from tests.lifecycle_helpers import push

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Browser tests run against SQLite only (the server shares the test's app)."""
    return request.param


def _log_in(page, live_server, login):
    page.goto(f"{live_server}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/services/")


def test_dead_mailbox_support_finds_admin_confirms_transfer_executes(live_server, page, make, smtp):
    jan = make.account("jan", name="Jan Novák")
    eva = make.account("eva", name="Eva Svobodová", email="eva@dead.test")
    make.account("helper", name="Hana Support", staff=True, staff_role="support")
    make.account("boss", name="Petr Admin", staff=True, staff_role="admin")
    web = make.service(jan, domain="žluťoučký.cz".encode("idna").decode())
    request = push(make, jan, eva, web)
    operations.confirm(request, request.party_for(jan.id))
    smtp.refused["eva@dead.test"] = "550 5.1.1 mailbox unavailable"
    worker.run_once()

    # Support finds the request by the domain as the customer spells it, and cannot confirm.
    _log_in(page, live_server, "helper")
    page.set_viewport_size({"width": 390, "height": 844})
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():  # on a phone the navigation folds behind "Menu"
        menu.click()
    page.click("header.top >> text=Staff")
    page.fill("#staff-q", "žluťoučký.cz")
    page.click("form.staff-search button")
    page.click(f"a[href='/staff/requests/{request.id}']")
    assert "An administrator can" in page.inner_text("main")
    assert page.locator("tr.mail-failed").count() >= 1  # the mail that bounced
    page.click("form[action='/logout'] button")

    # The admin confirms on Eva's behalf after checking her ID.
    _log_in(page, live_server, "boss")
    page.goto(f"{live_server}/staff/requests/{request.id}")
    page.click(f"#help-{eva.id} ~ details:last-of-type summary")
    page.fill(f"#behalf-reason-{eva.id}", "Her mailbox is dead; she came to the office")
    page.fill(f"#reference-{eva.id}", "ID card checked on 2 December")
    page.click(f"form[action$='/parties/{eva.id}/confirm'] button[type=submit]")
    assert "Confirmed on behalf of Eva Svobodová" in page.inner_text("main")

    worker.run_once()
    db.session.expire_all()
    assert db.session.get(TransferRequest, request.id).state == "executed"
    page.reload()
    assert "Executed" in page.inner_text("main")
    assert "Confirmed by support on behalf of a customer" in page.inner_text("main")
