"""The fast widgets write what WTForms' own widgets write, byte for byte."""

from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import html_params as wtforms_html_params

from cession_app import widgets
from cession_app.i18n import lazy_gettext as _l

VALUES = ['a "quoted" <b>&', Markup('<i title="x">'), 5, True, False, "", _l("Log in")]


def test_html_params_are_wtforms_own(app):
    with app.test_request_context():
        for value in VALUES:
            attrs = {"class_": value, "data_user_name": value, "aria_describedby": "a b", "id": 1}
            assert widgets.html_params(**attrs) == wtforms_html_params(**attrs)


class Sample(widgets.Form):
    class Meta:
        csrf = False

    text = StringField("Text", validators=[DataRequired(), Length(max=20)])
    secret = PasswordField("Secret")
    agree = BooleanField("Agree")
    when = DateField("When")
    count = IntegerField("Count")
    query = SearchField("Query")
    notes = TextAreaField("Notes", validators=[Length(max=500)])
    kind = SelectField("Kind", choices=[SelectChoice("a", 'A "one"'), SelectChoice("b", "B <two>")])
    grouped = SelectField(
        "Grouped",
        choices=[SelectChoice("x", "X", optgroup="G1"), SelectChoice("y", "Y", optgroup='G "2"')],
    )
    pick = RadioField("Pick", choices=[SelectChoice("p", 'P "1"'), SelectChoice("q", "Q")])
    many = SelectMultipleField("Many", choices=[SelectChoice("1", "One"), SelectChoice("2", "Two")])
    submit = SubmitField(_l("Log in"))


def test_every_field_renders_as_with_wtforms(app):
    data = {"text": 'x"<y>', "secret": "s3cret", "agree": "y", "notes": "a\nb<c>", "kind": "b"}
    data.update(pick="q", many=["2"], grouped="y", count="7", when="2026-01-02", query="q&q")
    with app.test_request_context(method="POST", data=data):
        form = Sample()
        form.validate()
        for field in form:
            for attrs in ({}, {"class_": "wide", "autofocus": True, "aria_invalid": "true"}):
                assert field(**attrs) == field.widget(field, **attrs), field.name
        for option in form.pick:  # a radio list renders its buttons through the form too
            assert option() == option.widget(option)
