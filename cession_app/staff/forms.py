"""Forms of the staff console (GET filters without CSRF; every change is a POST with CSRF)."""

from datetime import date

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..addresses import ValidAddress
from ..i18n import lazy_gettext as _l
from ..models.api import SCOPES
from ..webhooks import operations as webhooks
from ..widgets import Form
from .labels import action_label

REASON_MAX = 500


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SearchForm(Form):
    """The one search box of the staff pages."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Find a customer, request, service or payment request"),
        validators=[Optional(), Length(max=253)],
        filters=[_strip],
        description=_l(
            "Request number, domain, service ID, customer code or number, login name, name,"
            " e-mail or payment request."
        ),
    )


class UnpaidSearchForm(Form):
    """Narrow the unpaid payment requests (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Payment request, service or domain"), validators=[Optional()])


class MarkPaidForm(Form):
    """The day a payment request was paid (today when left empty)."""

    paid_on = DateField(_l("Paid on"), default=date.today, validators=[Optional()])
    submit = SubmitField(_l("Mark paid"))


class MarkDoneForm(Form):
    """The re-issued tax document has been sent."""

    submit = SubmitField(_l("Mark done"))


def _reason_field():
    return TextAreaField(
        _l("Reason (the customers read it)"),
        validators=[
            DataRequired(_l("Please give the reason.")),
            Length(max=REASON_MAX, message=_l("At most %(max)d characters, please.")),
        ],
        filters=[_strip],
    )


class CancelForm(Form):
    """Cancel an open request, with a reason every party is told."""

    reason = _reason_field()
    submit = SubmitField(_l("Cancel the request"))


class ResendForm(Form):
    """Send a party its link again, to its own address."""

    submit = SubmitField(_l("Resend link"))


class SendElsewhereForm(Form):
    """Send a party's link once to another address (the account keeps its address)."""

    address = StringField(
        _l("Other e-mail address"),
        validators=[DataRequired(_l("Please enter an e-mail address.")), ValidAddress()],
        filters=[_strip],
    )
    reason = _reason_field()
    submit = SubmitField(_l("Send the link there"))


class ConfirmOnBehalfForm(Form):
    """Confirm for a party whose identity was checked another way."""

    reason = _reason_field()
    reference = StringField(
        _l("Proof of identity (document and its reference)"),
        validators=[
            DataRequired(_l("Please name the document that proves the identity.")),
            Length(max=200, message=_l("At most %(max)d characters, please.")),
        ],
        filters=[_strip],
        description=_l("E.g. written request of 2 December, ID card checked at the office."),
    )
    # Only asked when this customer, as the new payer, takes over unpaid payment requests.
    take_over_payments = BooleanField(
        _l("The customer accepts the unpaid payment requests listed above and will pay them")
    )
    submit = SubmitField(_l("Confirm on behalf of this customer"))


class RequeueForm(Form):
    """Try a failed message again."""

    submit = SubmitField(_l("Try again"))


class ResendMailForm(Form):
    """Send a copy of a failed message to a corrected address."""

    address = StringField(
        _l("Corrected address"),
        validators=[DataRequired(_l("Please enter an e-mail address.")), ValidAddress()],
        filters=[_strip],
    )
    submit = SubmitField(_l("Send there"))


class AuditFilterForm(Form):
    """Narrow the audit trail (GET, no CSRF)."""

    class Meta:
        csrf = False

    account = StringField(_l("Customer code"), validators=[Optional(), Length(max=32)])
    request = StringField(_l("Request number"), validators=[Optional(), Length(max=12)])
    staff = StringField(_l("Staff member (customer code)"), validators=[Optional(), Length(max=32)])
    action = SelectField(_l("Kind of event"), validators=[Optional()], validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
    submit = SubmitField(_l("Filter"))


class ApproveForm(Form):
    """Approve a confirmed request: it is executed."""

    submit = SubmitField(_l("Approve"))


class RejectForm(Form):
    """Decline a request awaiting approval, with a reason the parties are told."""

    reason = _reason_field()
    submit = SubmitField(_l("Decline"))


class SettingsForm(Form):
    """What an admin may change while the app runs."""

    TRANSFER_EXPIRY_DAYS = IntegerField(
        _l("Days a request waits for confirmation"),
        validators=[
            DataRequired(_l("Please enter a number of days.")),
            NumberRange(min=1, max=90, message=_l("Between %(min)s and %(max)s days, please.")),
        ],
    )
    REMINDER_DAYS_BEFORE = IntegerField(
        _l("Days before expiry the reminder goes out"),
        validators=[
            InputRequired(_l("Please enter a number of days.")),
            NumberRange(min=0, max=89, message=_l("Between %(min)s and %(max)s days, please.")),
        ],
        description=_l("0: no reminder."),
    )
    REQUIRE_APPROVAL = BooleanField(_l("Confirmed requests wait for approval by staff"))
    SUPPORT_EMAIL = StringField(
        _l("Support contact shown to customers"),
        validators=[Optional(), ValidAddress()],
        filters=[_strip],
        description=_l("Empty: the sender address of the mails."),
    )
    submit = SubmitField(_l("Save"))

    def validate_REMINDER_DAYS_BEFORE(self, field):  # noqa: N802 (the setting's name)
        """The reminder must come before the request expires."""
        expiry = self.TRANSFER_EXPIRY_DAYS.data
        if field.data is not None and expiry and field.data >= expiry:
            raise ValidationError(_l("The reminder must go out before the request expires."))


# ---------------------------------------------------------------- integrations (admins)
class PostForm(Form):
    """A button that changes something: only its CSRF token is checked."""


class RevokeKeyForm(Form):
    """The confirmation step of revoking an API key."""

    submit = SubmitField(_l("Yes, revoke the key"))


class DeleteEndpointForm(Form):
    """The confirmation step of deleting a webhook endpoint."""

    submit = SubmitField(_l("Yes, delete the endpoint"))


SCOPE_LABELS = {
    "read": _l("read: see accounts, services, payment requests, transfer requests and events"),
    "sync": _l("sync: create and update accounts, services and payment requests; mark paid"),
    "transfers": _l("transfers: create, cancel and approve transfer requests"),
}


class ApiKeyForm(Form):
    """A new API key: what it is for, and what it may do."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Please give the key a name.")),
            Length(max=100, message=_l("At most %(max)d characters, please.")),
        ],
        filters=[_strip],
        description=_l("What the key is for, e.g. billing-sync."),
    )
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(scope, SCOPE_LABELS[scope]) for scope in SCOPES],
        validators=[DataRequired(_l("Please choose at least one scope."))],
    )
    submit = SubmitField(_l("Create the key"))


ALL_EVENTS = "*"


def event_type_choices():
    """Every event type an endpoint may take, named in words (with its code)."""
    choices = [SelectChoice(ALL_EVENTS, _l("All events, also those added later"))]
    return choices + [SelectChoice(kind, action_label(kind)) for kind in webhooks.EVENT_TYPES]


class WebhookForm(Form):
    """A new webhook endpoint: its URL and the events it takes."""

    url = StringField(
        _l("URL"),
        validators=[DataRequired(_l("Please enter the URL."))],
        filters=[_strip],
        description=_l("Where the events are posted, e.g. https://billing.example/hooks/cession."),
    )
    event_types = SelectMultipleField(
        _l("Events"),
        validators=[DataRequired(_l("Please choose at least one event type."))],
    )
    submit = SubmitField(_l("Register the endpoint"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.event_types.choices = event_type_choices()

    def validate_url(self, field):
        """The checks of ``flask webhook add`` (webhooks.check_url)."""
        try:
            webhooks.check_url(field.data or "")
        except webhooks.EndpointRefused as refused:
            raise ValidationError(refused.message) from None
