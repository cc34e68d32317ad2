"""Billing lists the payer's payment requests with their numbers, amounts (Babel, the reader's
language), due dates and states, each with its payment document as a PDF, and the whole list
as CSV; staff pages show amounts through Babel too (issue 11, item 10)."""

import csv
import io
from datetime import date

import pytest
from pypdf import PdfReader

from tests.conftest import login
from tests.factories import BANK

NBSP = "\xa0"


@pytest.fixture
def app_config(app_config):
    """The provider's bank details are set."""
    app_config.update(BANK)
    return app_config


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _row(page, external_id):
    start = page.index(f'id="pr-{external_id}"')
    return page[start : page.index("</tr>", start)]


@pytest.fixture
def billed(make):
    """A Czech payer with an unpaid CZK and a paid EUR payment request."""
    payer = make.account("payer", language="cs", name="Eva Svobodová")
    svc = make.service(payer, domain="svoboda.cz", kind="webhosting", external_id="S-1")
    make.payment_request(svc, external_id="PR-2026-0042", amount="349.00", due_on=date(2026, 12, 3))
    make.payment_request(
        svc,
        external_id="PR-2026-0007",
        amount="1234.50",
        currency="EUR",
        issued_on=date(2026, 1, 2),
        due_on=date(2026, 1, 12),
        paid_on=date(2026, 1, 5),
    )
    return payer


@pytest.mark.parametrize(
    "lang, amount, due",
    [
        ("cs", f"349,00{NBSP}Kč", "3. 12. 2026"),
        ("pl", f"349,00{NBSP}CZK", "3.12.2026"),
        ("de", f"349,00{NBSP}CZK", "03.12.2026"),
        ("en", f"CZK{NBSP}349.00", "3 Dec 2026"),
    ],
)
def test_billing_lists_numbers_amounts_due_dates_and_downloads(
    client, make, log_in, billed, lang, amount, due
):
    billed.language = lang
    make.account("other")
    log_in("payer")
    page = client.get("/billing/").get_data(as_text=True)
    row = _row(page, "PR-2026-0042")
    assert "PR-2026-0042" in row and amount in row and due in row
    assert 'href="/billing/documents/PR-2026-0042.pdf"' in row
    assert 'href="/billing/documents/PR-2026-0007.pdf"' in _row(page, "PR-2026-0007")
    assert 'href="/billing/payment-requests.csv"' in page


def test_the_pdf_is_the_payment_document_in_the_readers_language(client, log_in, billed):
    log_in("payer")
    response = client.get("/billing/documents/PR-2026-0042.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    assert "Výzva k platbě PR-2026-0042" in text
    assert "349,00" in text and "Kč" in text and "3. 12. 2026" in text
    assert "CZ6508000000192000145399" in text and "20260042" in text  # IBAN, variable symbol
    assert "Eva Svobodová" in text
    paid = pdf_text(client.get("/billing/documents/PR-2026-0007.pdf").data)
    assert "234,50\xa0€" in paid or "234,50 €" in paid
    assert "Uhrazeno 5. 1. 2026" in paid and "IBAN" not in paid  # paid: no way to pay


def test_only_the_payer_and_staff_download_a_document(app, client, make, log_in, billed):
    make.account("other")
    make.account("staffer", staff=True)
    log_in("other")
    assert client.get("/billing/documents/PR-2026-0042.pdf").status_code == 404
    staff = app.test_client()
    assert login(staff, "staffer").status_code == 302
    assert staff.get("/billing/documents/PR-2026-0042.pdf").status_code == 200


def test_the_list_as_csv_is_data(client, make, log_in, billed):
    other = make.account("other")
    make.payment_request(make.service(other), external_id="PR-OTHER")
    log_in("payer")
    response = client.get("/billing/payment-requests.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["number"] for r in rows] == ["PR-2026-0042", "PR-2026-0007"]
    assert rows[0]["amount"] == "349.00" and rows[0]["currency"] == "CZK"
    assert rows[0]["due_on"] == "2026-12-03" and rows[0]["state"] == "unpaid"
    assert rows[1]["state"] == "paid" and rows[1]["settled_on"] == "2026-01-05"


@pytest.mark.parametrize(
    "lang, amount",
    [("cs", f"349,00{NBSP}Kč"), ("de", f"349,00{NBSP}CZK"), ("en", f"CZK{NBSP}349.00")],
)
def test_staff_pages_show_amounts_through_babel(client, make, log_in, billed, lang, amount):
    make.account("staffer", staff=True, language=lang)
    log_in("staffer")
    customer = client.get(f"/staff/customers/{billed.code}").get_data(as_text=True)
    assert amount in customer
    assert "CZK349" not in customer  # never the raw code glued to the number
    found = client.get("/staff/search", query_string={"q": "PR-2026-0042"})
    assert amount in found.get_data(as_text=True)
