"""A push transfer in Polish, end to end in Chromium, following the links from caught mails."""

import re

import pytest

from cession_app.extensions import db
from cession_app.models import Service, TransferRequest
from cession_app.worker import run_once
from tests.conftest import free_port, watch_csp
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Browser tests run against SQLite only (the server shares the test's app)."""
    return request.param


@pytest.fixture
def app_config(app_config):
    """Serve on a known port, and let mailed links point at it (BASE_URL)."""
    port = free_port()
    app_config.update(LIVE_SERVER_PORT=port, BASE_URL=f"http://127.0.0.1:{port}")
    return app_config


def _link_in(message, base_url):
    text = message.get_body(("plain",)).get_content()
    return re.search(re.escape(base_url) + r"/transfers/requests/\d+/respond/\S+", text).group(0)


def _confirm_by_link(browser, url):
    context = browser.new_context()  # the other party's own browser: not logged in
    page = context.new_page()
    violations = watch_csp(page, [])
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "pl"
    page.get_by_role("button", name="Potwierdź cesję").click()
    page.wait_for_load_state()
    context.close()
    assert not violations


def test_push_transfer_in_polish(live_server, page, chromium, make, smtp):
    me = make.account("kowalska", language="pl", name="Anna Kowalska", code="kowalska1")
    other = make.account("nowak", language="pl", name="Piotr Nowak", code="nowakpio7")
    web = make.service(me, domain="kowalska.pl", kind="webhosting")
    dom = make.service(me, domain="kowalska.pl", kind="domain")

    page.goto(f"{live_server}/login")
    page.fill("#login", "kowalska")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/services/")
    assert page.locator("h1").inner_text() == "Moje usługi"

    # My services -> "Transfer" on the business case starts the wizard with its domain.
    page.locator("section.case[data-domain='kowalska.pl'] .case-head a.button").click()
    assert page.locator("#domain").input_value() == "kowalska.pl"
    page.fill("#code", "nowakpio7")
    page.get_by_role("button", name="Dalej").click()
    page.check(f"#service-{web.id}")
    page.check(f"#service-{dom.id}")
    page.get_by_role("button", name="Dalej").click()
    page.wait_for_url("**/review")  # the page's content is empty until the new page is in
    assert "WHOIS" in page.content()
    page.get_by_role("button", name="Wyślij bezpłatnie").click()
    page.wait_for_url("**/transfers/requests/*")

    transfer = db.session.scalar(db.select(TransferRequest))
    assert transfer is not None and transfer.state == "awaiting"
    run_once()  # deliver the confirmation mails through the SMTP server
    links = {
        m["To"]: _link_in(m, live_server)
        for m in smtp.messages
        if "/respond/" in m.get_body(("plain",)).get_content()
    }
    assert set(links) == {me.email, other.email}
    for message in smtp.messages:
        assert "cesj" in message["Subject"].lower()  # Polish subjects

    _confirm_by_link(chromium, links[me.email])
    _confirm_by_link(chromium, links[other.email])
    run_once()  # execute

    db.session.expire_all()
    assert {s.owner_id for s in db.session.scalars(db.select(Service))} == {other.id}
    page.goto(f"{live_server}/transfers/requests/{transfer.id}")
    assert "Zrealizowane" in page.locator("main").inner_text()
