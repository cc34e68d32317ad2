"""Forms of the accounts pages."""

from flask_babel import get_locale
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .. import i18n
from ..addresses import ValidAddress
from ..i18n import lazy_gettext as _l
from ..widgets import Form
from . import rules, timezones


def language_choices():
    """The offered languages, each named in its own language."""
    return [SelectChoice(code, i18n.language_name(code)) for code in i18n.languages()]


class LoginForm(Form):
    """Log-in name and password."""

    login = StringField(_l("Login name"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Log in"))


class PreferencesForm(Form):
    """The account's language and time zone."""

    language = SelectField(_l("Language"))
    timezone = SelectField(_l("Time zone"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()
        current = getattr(kwargs.get("obj"), "timezone", None)  # kept even if no longer listed
        self.timezone.choices = timezones.grouped_choices(get_locale() or "en", current)


class LanguageForm(Form):
    """The language switcher shown on every page."""

    language = SelectField(_l("Language"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class ForgotPasswordForm(Form):
    """Ask for a set-password link by login name or e-mail."""

    identifier = StringField(
        _l("Login name or e-mail address"), validators=[DataRequired(), Length(max=254)]
    )
    submit = SubmitField(_l("Send me a link"))


class NewPasswordForm(Form):
    """A new password, typed twice; ``account`` is whose it will be (for the rules)."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=_l(
            "At least %(min)d characters, without your login name or e-mail address.",
            min=rules.MIN_PASSWORD,
        ),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )
    submit = SubmitField(_l("Set password"))

    def __init__(self, account, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def validate_password(self, field):
        """The password rules (length, no login name or e-mail in it)."""
        problems = rules.password_problems(self.account, field.data)
        if problems:
            raise ValidationError(problems[0])


class ChangePasswordForm(NewPasswordForm):
    """My data: the current password, then the new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    submit = SubmitField(_l("Change password"))

    def __init__(self, account, *args, **kwargs):
        super().__init__(account, *args, prefix="pw", **kwargs)


class ChangeEmailForm(Form):
    """My data: a new contact e-mail (confirmed from that mailbox) and the current password."""

    email = StringField(
        _l("New contact e-mail"), validators=[DataRequired(), Length(max=300), ValidAddress()]
    )
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    submit = SubmitField(_l("Send a confirmation link"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="mail", **kwargs)


class ButtonForm(Form):
    """A button that changes something (CSRF only): confirm, undo, sign out."""

    submit = SubmitField(_l("Confirm"))


class SecondFactorForm(Form):
    """Log-in, second step: a code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=20)],
    )
    remember = BooleanField(_l("Do not ask for a code on this browser again for a while"))
    submit = SubmitField(_l("Log in"))


class TwoFactorSetupForm(Form):
    """Enrolment: the first code the app shows, to prove it has the secret."""

    code = StringField(
        _l("Code from your authenticator app"), validators=[DataRequired(), Length(max=20)]
    )
    submit = SubmitField(_l("Turn on two-factor authentication"))


class TwoFactorOffForm(Form):
    """Turn two-factor off: the current password and a code."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=20)],
    )
    submit = SubmitField(_l("Turn off two-factor authentication"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="tfoff", **kwargs)


class RecoveryCodesForm(Form):
    """New recovery codes: a code first."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=20)],
    )
    submit = SubmitField(_l("Make new recovery codes"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="tfnew", **kwargs)
