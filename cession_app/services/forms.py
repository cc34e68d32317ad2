"""Forms of the services pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from ..i18n import lazy_gettext as _l


class TerminateForm(FlaskForm):
    """Confirm the termination of a service."""

    submit = SubmitField(_l("Yes, terminate the service"))


class ParametersForm(FlaskForm):
    """The parameters an owner may change."""

    auto_renew = BooleanField(_l("Renew automatically"))
    submit = SubmitField(_l("Save"))
