"""How to pay a payment request: the provider's bank details (settings), the payment
reference, and a payment QR code in the local standard where one exists: Czech SPAYD
("QR Platba") for CZK, EPC/SEPA for EUR; for other currencies (PLN) the details only."""

import re
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app

SPAYD_SAFE = re.compile(r"[^0-9A-Za-z .,/-]")


@dataclass(frozen=True)
class BankDetails:
    """Where to pay (from the settings); empty fields are not shown."""

    holder: str
    iban: str
    bic: str
    account_number: str

    @property
    def configured(self):
        """Whether there is anything to pay to."""
        return bool(self.iban or self.account_number)


def bank_details():
    """The provider's bank details from the settings."""
    cfg = current_app.config
    return BankDetails(
        holder=cfg["BANK_ACCOUNT_HOLDER"],
        iban=cfg["BANK_IBAN"].replace(" ", "").upper(),
        bic=cfg["BANK_BIC"].replace(" ", "").upper(),
        account_number=cfg["BANK_ACCOUNT_NUMBER"],
    )


def reference(pr, rule=None):
    """The payment reference of ``pr`` by the PAYMENT_REFERENCE rule: ``{digits}`` (the
    digits of its number, e.g. a Czech variable symbol, at most 10) or ``{id}`` (its number)."""
    rule = rule or current_app.config["PAYMENT_REFERENCE"]
    digits = re.sub(r"\D", "", pr.external_id)[-10:]
    return rule.replace("{digits}", digits).replace("{id}", pr.external_id)


def _amount(value):
    return f"{Decimal(value).quantize(Decimal('0.01'))}"


def spayd(pr, bank, ref):
    """The Czech "QR Platba" (SPAYD 1.0) string for a CZK payment."""
    account = bank.iban + (f"+{bank.bic}" if bank.bic else "")
    parts = ["SPD", "1.0", f"ACC:{account}", f"AM:{_amount(pr.amount)}", "CC:CZK"]
    parts.append(f"MSG:{SPAYD_SAFE.sub('', pr.external_id)[:60]}")
    if ref.isdigit():
        parts.append(f"X-VS:{ref}")
    return "*".join(parts)


def payment_qr(pr):
    """(standard, QR code) for ``pr``, or None where no local standard applies or the bank
    details lack an IBAN."""
    bank = bank_details()
    if not bank.iban or pr.paid_on is not None:
        return None
    ref = reference(pr)
    import segno  # only a payment page draws a QR code
    import segno.helpers

    if pr.currency == "CZK":
        return "spayd", segno.make(spayd(pr, bank, ref), error="m")
    if pr.currency == "EUR":
        qr = segno.helpers.make_epc_qr(
            name=(bank.holder or current_app.config["BRAND_NAME"] or "-")[:70],
            iban=bank.iban,
            amount=Decimal(pr.amount),
            text=ref[:140],
            bic=bank.bic or None,
        )
        return "epc", qr
    return None


def qr_image(qr):
    """The QR code as an SVG data URI (the CSP allows ``data:`` images, no inline style)."""
    return qr.svg_data_uri(scale=4, border=4, dark="#000", light="#fff")
