"""Forms of the billing pages."""

from wtforms import SubmitField

from ..i18n import lazy_gettext as _l
from ..widgets import Form


class TaxDocumentForm(Form):
    """The new owner asks for a new tax document for one payment."""

    submit = SubmitField(_l("Request a new tax document"))
