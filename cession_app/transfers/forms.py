"""Forms of the request pages (the wizard's forms live in wizard.py)."""

from wtforms import BooleanField, PasswordField, SubmitField

from ..i18n import lazy_gettext as _l
from ..widgets import Form


class RespondForm(Form):
    """A party's answer: Confirm or Decline (only this POST acts, never a GET)."""

    # Only asked of accounts whose protection settings want it (operations.password_needed).
    password = PasswordField(_l("Your password"))
    # Only asked of a new payer taking over unpaid payment requests (must_take_over).
    take_over_payments = BooleanField(
        _l("I take over the unpaid payment requests listed above and will pay them")
    )
    confirm = SubmitField(_l("Confirm the transfer"))
    decline = SubmitField(_l("Decline"))


class CancelForm(Form):
    """The initiator withdraws the request."""

    submit = SubmitField(_l("Cancel the request"))


class ResendForm(Form):
    """Send a party its confirmation link again."""

    submit = SubmitField(_l("Resend link"))
