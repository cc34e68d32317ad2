"""The payer's downloads: a payment request as a PDF (the printable payment document, with
the bank details and the payment QR code) and the list of payment requests as CSV.

The PDF speaks the reader's language (Babel amounts and dates); the CSV is data: ISO dates,
plain amounts and currency codes, one row per payment request."""

import csv
import io
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from .. import labels
from ..i18n import fmt_date, fmt_money
from ..staff.operations import csv_cell

FONTS = Path(__file__).resolve().parent.parent / "fonts"
CSV_HEADER = (
    "number",
    "service",
    "kind",
    "domain",
    "amount",
    "currency",
    "issued_on",
    "due_on",
    "state",
    "settled_on",
)


def state_of(pr):
    """unpaid, paid or handed_over (taken over by the new payer in a transfer)."""
    if pr.cancelled_on:
        return "handed_over"
    return "paid" if pr.paid_on else "unpaid"


def csv_text(payment_requests):
    """The payment requests as CSV, header first (spreadsheet formulas neutralised)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for pr in payment_requests:
        settled = pr.cancelled_on or pr.paid_on
        row = (
            pr.external_id,
            pr.service.external_id,
            pr.service.kind,
            pr.service.domain,
            f"{pr.amount:.2f}",
            pr.currency,
            pr.issued_on.isoformat(),
            pr.due_on.isoformat(),
            state_of(pr),
            settled.isoformat() if settled else "",
        )
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue()


def _state_text(pr):
    if pr.cancelled_on:
        return _("Taken over by the new payer on %(date)s", date=fmt_date(pr.cancelled_on))
    if pr.paid_on:
        return _("Paid on %(date)s", date=fmt_date(pr.paid_on))
    return _("Unpaid")


def _facts(pdf, rows):
    for term, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(55, 6, term)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")


def _heading(pdf, text, size=12):
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", size)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")


def payment_pdf(pr, payer, bank, reference, qr=None):
    """The payment document of ``pr`` as PDF bytes: what the document page shows."""
    from fpdf import FPDF  # only this download needs it

    brand = current_app.config.get("BRAND_NAME") or ""
    amount = fmt_money(pr.amount, pr.currency)
    pdf = FPDF(format="A4")
    pdf.set_title(_("Payment request %(id)s", id=pr.external_id))
    pdf.set_creator(brand or "cession")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    if brand:
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, brand, new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, _("Payment request %(id)s", id=pr.external_id), size=15)
    _heading(pdf, _("Made out to"))
    pdf.set_font("DejaVu", "", 10)
    lines = [payer.billing_name or payer.name, *(payer.billing_address or "").splitlines()]
    if payer.vat_id:
        lines.append(_("VAT ID: %(vat_id)s", vat_id=payer.vat_id))
    pdf.multi_cell(0, 6, "\n".join(lines), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    service = (
        f"{labels.kind_label(pr.service.kind)} · {pr.service.domain} ({pr.service.external_id})"
    )
    _facts(
        pdf,
        [
            (_("Customer code"), payer.code),
            (_("Service"), service),
            (_("Owner"), pr.service.owner.name),
            (_("Amount"), amount),
            (_("Issued on"), fmt_date(pr.issued_on)),
            (_("Due on"), fmt_date(pr.due_on)),
            (_("State"), _state_text(pr)),
        ],
    )
    if pr.paid_on or not bank.configured:
        return bytes(pdf.output())
    _heading(pdf, _("How to pay"))
    pdf.set_font("DejaVu", "", 10)
    text = _(
        "Please transfer %(amount)s by %(date)s to this account, with the reference below,"
        " so that we can match your payment.",
        amount=amount,
        date=fmt_date(pr.due_on),
    )
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows = [
        (_("Account holder"), bank.holder),
        (_("Account number"), bank.account_number),
        (_("IBAN"), bank.iban),
        (_("BIC (SWIFT)"), bank.bic),
    ]
    name = _("Variable symbol") if pr.currency == "CZK" else _("Payment reference")
    rows += [(_("Amount"), amount), (name, reference), (_("Due on"), fmt_date(pr.due_on))]
    _facts(pdf, [(term, value) for term, value in rows if value])
    if qr is not None:
        image = io.BytesIO()
        qr.save(image, kind="png", scale=8, border=4)
        image.seek(0)
        pdf.ln(4)
        pdf.image(image, w=50, h=50)
    return bytes(pdf.output())
