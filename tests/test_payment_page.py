"""The page of an unpaid payment request says how to pay: bank details, the reference, and
a payment QR code in the local standard (SPAYD for CZK, EPC/SEPA for EUR; none for PLN)."""

import html
from datetime import date
from decimal import Decimal

import pytest
import segno
import segno.helpers

from cession_app.billing import payment
from tests.factories import BANK


@pytest.fixture
def app_config(app_config):
    """A provider with bank details."""
    app_config.update(BANK)
    return app_config


def _qr_src(page):
    start = page.index('<img src="', page.index('class="payment-qr"')) + len('<img src="')
    return html.unescape(page[start : page.index('"', start)])


def test_czk_page_has_bank_details_and_a_spayd_qr_code(client, make, log_in):
    me = make.account("novak")
    pr = make.payment_request(
        make.service(me), amount="349.00", currency="CZK", external_id="PR-2026-0042"
    )
    log_in("novak")
    page = client.get(f"/billing/documents/{pr.external_id}").text
    assert "How to pay" in page
    assert "Acme Hosting s.r.o." in page and "CZ6508000000192000145399" in page
    assert "GIBACZPX" in page and "19-2000145399/0800" in page
    assert "Variable symbol" in page and '<dd class="code payment-reference">20260042</dd>' in page
    expected = "SPD*1.0*ACC:CZ6508000000192000145399+GIBACZPX*AM:349.00*CC:CZK*MSG:PR-2026-0042*X-VS:20260042"  # noqa: E501
    assert payment.spayd(pr, payment.bank_details(), "20260042") == expected
    qr = segno.make(expected, error="m")
    assert _qr_src(page) == payment.qr_image(qr)  # the very code of that payment string
    assert 'data-standard="spayd"' in page and "data-print" in page


def test_eur_page_has_an_epc_qr_code(client, make, log_in):
    me = make.account("mueller", language="de")
    pr = make.payment_request(make.service(me), amount="19.90", currency="EUR", external_id="R-77")
    log_in("mueller")
    page = client.get(f"/billing/documents/{pr.external_id}").text
    assert "Verwendungszweck" in page or "Payment reference" in page
    expected = segno.helpers.make_epc_qr(
        name="Acme Hosting s.r.o.",
        iban="CZ6508000000192000145399",
        amount=Decimal("19.90"),
        text="77",
        bic="GIBACZPX",
    )
    assert _qr_src(page) == payment.qr_image(expected)
    assert 'data-standard="epc"' in page


def test_pln_page_has_the_details_but_no_qr_code(client, make, log_in):
    me = make.account("kowalska", language="pl")
    pr = make.payment_request(make.service(me), amount="120.00", currency="PLN")
    log_in("kowalska")
    page = client.get(f"/billing/documents/{pr.external_id}").text
    assert "CZ6508000000192000145399" in page and 'class="payment-qr"' not in page


def test_a_paid_request_shows_no_way_to_pay(client, make, log_in):
    me = make.account("novak")
    pr = make.payment_request(make.service(me), paid_on=date.today())
    log_in("novak")
    page = client.get(f"/billing/documents/{pr.external_id}").text
    assert "How to pay" not in page and "payment-qr" not in page


def test_without_bank_details_the_page_says_where_to_ask(app, client, make, log_in):
    app.config.update(dict.fromkeys(BANK, ""), SUPPORT_EMAIL="help@acme.test")
    me = make.account("novak")
    pr = make.payment_request(make.service(me))
    log_in("novak")
    page = client.get(f"/billing/documents/{pr.external_id}").text
    assert "How to pay" in page and "help@acme.test" in page and "payment-qr" not in page


def test_the_reference_rule_is_a_setting(app):
    class PR:
        external_id = "PR-2026-0042"

    assert payment.reference(PR(), "{digits}") == "20260042"
    assert payment.reference(PR(), "{id}") == "PR-2026-0042"
