"""Pure billing rules: the billing close and who may ask for a re-issued tax document.

No database access and no clock: callers pass the objects, the setting and ``today``.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from ..i18n import fmt_date
from ..i18n import lazy_gettext as _l

# A payment counts as "around the transfer" when it was made at most this many days
# before the request was created, and no later than the day the transfer was executed.
PAYMENT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Reason:
    """Why a tax document cannot be requested; ``text`` is translated."""

    code: str
    text: object

    def __str__(self):
        return str(self.text)


def billing_close(paid_on, close_day=0):
    """The billing close of the month ``paid_on`` falls in.

    ``close_day`` 0 (or less): the last day of that month; N: day N of the following
    month (the month's last day when it is shorter).
    """
    last = calendar.monthrange(paid_on.year, paid_on.month)[1]
    if close_day <= 0:
        return date(paid_on.year, paid_on.month, last)
    first_next = date(paid_on.year, paid_on.month, last) + timedelta(days=1)
    next_last = calendar.monthrange(first_next.year, first_next.month)[1]
    return first_next.replace(day=min(close_day, next_last))


def payment_window(transfer, today):
    """The first and last day on which a payment counts as made around ``transfer``."""
    created = transfer.created_at.date()
    executed = transfer.ended_at.date() if transfer.ended_at else today
    return created - timedelta(days=PAYMENT_WINDOW_DAYS), executed


def gained_ownership(transfer, account_id, service_id):
    """True when ``transfer`` moved the ownership of the service to ``account_id``."""
    return any(
        item.service_id == service_id
        and item.new_owner_id == account_id
        and item.old_owner_id != account_id
        for item in transfer.items
    )


def tax_document_reasons(
    transfer, payment_request, requester_id, *, today, close_day=0, already_requested=False
):
    """Why ``requester_id`` may not ask for a new tax document now (empty: it may).

    ``payment_request`` must be paid, of a service whose ownership the transfer moved to
    the requester, paid around the transfer, made out to someone else, and the request
    must come before the billing close of the month of the payment; once per payment.
    """
    if transfer.state != "executed" or not gained_ownership(
        transfer, requester_id, payment_request.service_id
    ):
        return [
            Reason(
                "not_new_owner",
                _l("Only the new owner of a transferred service can ask for a new tax document."),
            )
        ]
    if already_requested:
        return [
            Reason(
                "duplicate",
                _l("You have already asked for a new tax document for this payment."),
            )
        ]
    if payment_request.paid_on is None:
        return [Reason("unpaid", _l("This payment request has not been paid yet."))]
    start, end = payment_window(transfer, today)
    if not start <= payment_request.paid_on <= end:
        return [
            Reason(
                "window",
                _l(
                    "This payment was not made around the transfer (between %(start)s and"
                    " %(end)s), so no new tax document can be requested for it.",
                    start=fmt_date(start),
                    end=fmt_date(end),
                ),
            )
        ]
    if payment_request.payer_id == requester_id:
        text = _l("The tax document of this payment is already made out to you.")
        return [Reason("already_yours", text)]
    close = billing_close(payment_request.paid_on, close_day)
    if today > close:
        return [
            Reason(
                "closed",
                _l(
                    "The billing close of the month of this payment was on %(date)s. A new tax"
                    " document can only be requested before the close.",
                    date=fmt_date(close),
                ),
            )
        ]
    return []


def billing_details_text(account):
    """The account's billing details as they will appear on the document."""
    lines = [account.billing_name or account.name, account.billing_address or ""]
    if account.vat_id:
        lines.append(str(_l("VAT ID: %(vat_id)s", vat_id=account.vat_id)))
    return "\n".join(line for line in lines if line)
