"""In Czech, in Chromium: a buyer pulls two domains of a seller in one request, takes over the
seller's unpaid payment request, both confirm by the mailed links, and the buyer downloads
the transfer record (issue 15, items 1, 2 and 5)."""

import io
import re

import pytest
from pypdf import PdfReader

from cession_app.extensions import db
from cession_app.models import PaymentRequest, Service, TransferRequest
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
    """Serve on a known port, mailed links point at it; unpaid requests may be handed over."""
    port = free_port()
    app_config.update(
        LIVE_SERVER_PORT=port, BASE_URL=f"http://127.0.0.1:{port}", PAYMENT_HANDOVER=True
    )
    return app_config


def _link_in(message, base_url):
    text = message.get_body(("plain",)).get_content()
    found = re.search(re.escape(base_url) + r"/transfers/requests/\d+/respond/\S+", text)
    return found.group(0) if found else None


def _confirm_by_link(browser, url, take_over=False):
    context = browser.new_context()  # each party's own browser: not logged in
    page = context.new_page()
    violations = watch_csp(page, [])
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "cs"
    main = page.locator("main").inner_text()
    assert "novak.cz, novak.eu" in main
    if take_over:
        assert "PR-77" in main
        page.check("#take_over_payments")
    page.get_by_role("button", name="Potvrdit převod").click()
    page.wait_for_load_state()
    context.close()
    assert not violations


def test_pull_two_domains_with_a_handed_over_payment_request_in_czech(
    live_server, page, chromium, make, smtp
):
    seller = make.account("novak", language="cs", name="Jan Novák", code="novakjan1")
    buyer = make.account("svoboda", language="cs", name="Eva Svobodová", code="svobodae2")
    web = make.service(seller, domain="novak.cz", kind="webhosting")
    dom = make.service(seller, domain="novak.cz", kind="domain")
    eu = make.service(seller, domain="novak.eu", kind="domain")
    mail = make.service(seller, domain="novak.eu", kind="email")
    make.payment_request(mail, amount="349.00", currency="CZK", external_id="PR-77")

    page.goto(f"{live_server}/login")
    page.fill("#login", "svoboda")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/services/")
    assert page.locator("html").get_attribute("lang") == "cs"

    page.goto(f"{live_server}/transfers/wizard/pull")
    page.fill("#domain", "novak.cz")
    page.fill("#code", "novakjan1")
    page.get_by_role("button", name="Další", exact=True).click()
    page.check(f"#service-{web.id}")
    page.check(f"#service-{dom.id}")
    page.get_by_role("button", name="Přidat další doménu tohoto zákazníka").click()
    page.wait_for_url("**/add-domain")
    page.fill("#domain", "novak.eu")
    page.get_by_role("button", name="Přidat doménu").click()
    page.wait_for_url("**/services")
    assert "Obchodní případ novak.eu" in page.locator("main").inner_text()
    assert page.is_checked(f"#service-{web.id}") and page.is_checked(f"#service-{dom.id}")
    page.check(f"#service-{eu.id}")
    page.check(f"#service-{mail.id}")
    page.check("#take_over_payments")
    page.get_by_role("button", name="Další", exact=True).click()
    page.wait_for_url("**/review")
    review = page.locator("main").inner_text()
    assert "novak.cz, novak.eu" in review and "PR-77" in review
    assert "Obchodní případ novak.cz" in review and "Obchodní případ novak.eu" in review
    page.get_by_role("button", name="Odeslat zdarma").click()
    page.wait_for_url("**/transfers/requests/*")

    transfer = db.session.scalar(db.select(TransferRequest))
    assert transfer.domains == ["novak.cz", "novak.eu"] and len(transfer.items) == 4
    run_once()  # deliver the confirmation mails
    links = {m["To"]: _link_in(m, live_server) for m in smtp.messages if _link_in(m, live_server)}
    assert set(links) == {seller.email, buyer.email}
    summary = "Eva Svobodová žádá o převzetí 4 služeb 2 domén z vašeho účtu"
    assert any(summary in m.get_body(("plain",)).get_content() for m in smtp.to(seller.email))

    _confirm_by_link(chromium, links[seller.email])
    _confirm_by_link(chromium, links[buyer.email], take_over=True)
    run_once()  # execute

    db.session.expire_all()
    assert {s.owner_id for s in db.session.scalars(db.select(Service))} == {buyer.id}
    issued = db.session.scalar(db.select(PaymentRequest).where(PaymentRequest.payer_id == buyer.id))
    assert issued is not None and issued.is_open
    page.goto(f"{live_server}/transfers/requests/{transfer.id}")
    assert "Provedeno" in page.locator("main").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="Stáhnout záznam o převodu (PDF)").click()
    pdf = PdfReader(io.BytesIO(info.value.path().read_bytes()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    for name in ("novak.cz", "novak.eu", "Jan Novák", "Eva Svobodová", "novakjan1", "svobodae2"):
        assert name in text, name
