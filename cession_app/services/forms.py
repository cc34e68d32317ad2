"""Forms of the services pages."""

from wtforms import BooleanField, SubmitField

from ..i18n import lazy_gettext as _l
from ..widgets import Form


class TerminateForm(Form):
    """Confirm the termination of a service."""

    submit = SubmitField(_l("Yes, terminate the service"))


class ParametersForm(Form):
    """The parameters an owner may change."""

    auto_renew = BooleanField(_l("Renew automatically"))
    submit = SubmitField(_l("Save"))
