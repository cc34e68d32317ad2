"""Staff decisions on holder-change tasks."""

from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from ..i18n import lazy_gettext as _l
from ..widgets import Form


class DecideForm(Form):
    """Done, or refused with a reason (the parties read it)."""

    reason = TextAreaField(
        _l("Reason, if refused (the customers read it)"), validators=[Length(max=500)]
    )
    done = SubmitField(_l("Holder changed"))
    refuse = SubmitField(_l("Refuse"))
