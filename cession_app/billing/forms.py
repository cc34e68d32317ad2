"""Forms of the billing pages."""

from flask_wtf import FlaskForm
from wtforms import SubmitField

from ..i18n import lazy_gettext as _l


class TaxDocumentForm(FlaskForm):
    """The new owner asks for a new tax document for one payment."""

    submit = SubmitField(_l("Request a new tax document"))
