"""Forms of the billing pages."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SubmitField
from wtforms.validators import Optional

from ..i18n import lazy_gettext as _l


class MarkPaidForm(FlaskForm):
    """Staff: the day a payment request was paid (today when left empty)."""

    paid_on = DateField(_l("Paid on"), default=date.today, validators=[Optional()])
    submit = SubmitField(_l("Mark paid"))


class MarkDoneForm(FlaskForm):
    """Staff: the re-issued tax document has been sent."""

    submit = SubmitField(_l("Mark done"))


class TaxDocumentForm(FlaskForm):
    """The new owner asks for a new tax document for one payment."""

    submit = SubmitField(_l("Request a new tax document"))


class StaffSearchForm(FlaskForm):
    """Staff: search unpaid payment requests (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Payment request, service or domain"), validators=[Optional()])
