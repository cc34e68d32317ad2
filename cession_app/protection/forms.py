"""Forms of the protection settings page."""

import re

from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import ValidationError

from ..i18n import lazy_gettext as _l
from ..transfers.rules import auto_accept_codes
from ..widgets import Form

CODE = re.compile(r"^[a-z0-9]{1,32}$")
MAX_CODES = 50


class SettingsForm(Form):
    """A password to confirm; accounts whose requests to me are accepted automatically."""

    confirm_with_password = BooleanField(
        _l("Ask for my password when I confirm a transfer"),
        description=_l(
            "With two-factor authentication on, a code from your authenticator app is"
            " accepted instead of the password."
        ),
    )
    auto_accept_from = TextAreaField(
        _l("Accept automatically requests that move services to me from these accounts"),
        description=_l(
            "Customer codes, separated by spaces or commas. Only requests in which this"
            " account just receives services or becomes their payer are accepted; you are"
            " told by e-mail each time."
        ),
    )
    submit = SubmitField(_l("Save the protection settings"))

    def validate_auto_accept_from(self, field):
        codes = auto_accept_codes(field.data)
        wrong = [code for code in codes if not CODE.match(code)]
        if wrong:
            raise ValidationError(
                _l(
                    "%(codes)s is not a customer code: codes are letters and digits only.",
                    codes=", ".join(wrong[:3]),
                )
            )
        if len(codes) > MAX_CODES:
            raise ValidationError(_l("Please list at most %(max)s customer codes.", max=MAX_CODES))


class LockForm(Form):
    """Lock transfers out of this account."""

    lock = SubmitField(_l("Lock transfers out of my account"))


class UnlockForm(Form):
    """Ask for the lock to end (it does a day later)."""

    unlock = SubmitField(_l("Unlock in 24 hours"))
