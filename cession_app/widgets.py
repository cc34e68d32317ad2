"""Form fields rendered fast, with the same HTML as WTForms' widgets.

WTForms builds every attribute with ``Markup.format`` (Python's string formatter, about 20
calls an attribute) and finds a field's validation flags with ``dir()``; a page renders a
dozen fields. The widgets here are subclasses of WTForms' own that write the same bytes
with f-strings, escaping each value with markupsafe. ``Form`` (every form's base) renders
its fields with them: a widget WTForms gives a field is swapped for its fast twin, which
keeps the widget's settings (``hide_value``, ``multiple``, ``step``...); widgets with no
twin render as before.
"""

from functools import lru_cache

from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import widgets
from wtforms.widgets.core import clean_key

from .html import safe_html


def html_params(**kwargs):
    """WTForms' ``html_params``, the same output: attributes sorted by name, values escaped."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(_attribute(key))
        elif value is not False:
            text = escape(value)
            # escape() leaves HTML (Markup, lazy text) as it is: a quote there would end the value
            if type(value) is not str and '"' in text:
                text = str(text).replace('"', "&quot;")
            params.append(f'{_attribute(key)}="{text}"')
    return safe_html(" ".join(params))


@lru_cache(maxsize=256)  # names come from the code (id, class_, aria_describedby...)
def _attribute(key):
    """An attribute's name as WTForms writes it (``class_`` -> ``class``), escaped."""
    return str(escape(clean_key(key)))


def _flag_attrs(widget, field, kwargs):
    """The field's validation flags the widget shows (``required``, ``maxlength``...)."""
    flags = getattr(field, "flags", None)
    present = vars(flags) if flags is not None else {}
    for name in widget.validation_attrs:
        if name in present and name not in kwargs:
            value = present[name]
            kwargs[name] = value() if callable(value) else value


class Input(widgets.Input):
    """``<input>``: WTForms' ``Input.__call__`` without ``Markup.format`` or ``dir()``."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("type", self.input_type)
        if "value" not in kwargs:
            kwargs["value"] = field._value()
        datalist = getattr(field, "_datalist", None)
        if datalist is not None and "list" not in kwargs:
            kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
        _flag_attrs(self, field, kwargs)
        return safe_html(f"<input {html_params(name=field.name, **kwargs)}>")


# Each keeps its WTForms class's own steps (hiding the password, the submit's label...),
# then renders through the fast Input: in the method order Input comes before WTForms'.
class TextInput(widgets.TextInput, Input):
    """A text input."""


class PasswordInput(widgets.PasswordInput, Input):
    """A password input."""


class HiddenInput(widgets.HiddenInput, Input):
    """A hidden input (the CSRF token)."""


class SubmitInput(widgets.SubmitInput, Input):
    """A submit button."""


class CheckboxInput(widgets.CheckboxInput, Input):
    """A check box."""


class RadioInput(widgets.RadioInput, Input):
    """A radio button."""


class SearchInput(widgets.SearchInput, Input):
    """A search input."""


class DateInput(widgets.DateInput, Input):
    """A date input."""


class NumberInput(widgets.NumberInput, Input):
    """A number input."""


class TextArea(widgets.TextArea):
    """``<textarea>``."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        _flag_attrs(self, field, kwargs)
        params = html_params(name=field.name, **kwargs)
        return safe_html(f"<textarea {params}>\r\n{escape(field._value())}</textarea>")


class Select(widgets.Select):
    """``<select>`` with its options."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        _flag_attrs(self, field, kwargs)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        if field.has_groups():
            for optgroup, choices in field._iter_groups_normalized():
                if optgroup is not None:
                    html.append(f"<optgroup {html_params(label=optgroup)}>")
                html.extend(self.render_option(choice) for choice in choices)
                if optgroup is not None:
                    html.append("</optgroup>")
        else:
            html.extend(self.render_option(choice) for choice in field._iter_choices_normalized())
        html.append("</select>")
        return safe_html("".join(html))

    @classmethod
    def render_option(cls, choice, **kwargs):
        """One ``<option>``, as WTForms writes it."""
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        options = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            options["selected"] = True
        label = escape(choice.label or choice.value)
        return safe_html(f"<option {html_params(**options)}>{label}</option>")


FAST = {
    widgets.TextInput: TextInput,
    widgets.PasswordInput: PasswordInput,
    widgets.HiddenInput: HiddenInput,
    widgets.SubmitInput: SubmitInput,
    widgets.CheckboxInput: CheckboxInput,
    widgets.RadioInput: RadioInput,
    widgets.SearchInput: SearchInput,
    widgets.DateInput: DateInput,
    widgets.NumberInput: NumberInput,
    widgets.TextArea: TextArea,
    widgets.Select: Select,
}
_twins = {}  # WTForms' widget -> its fast twin (widgets live as long as their field classes)


def fast(widget):
    """The fast twin of a WTForms widget, with the same settings; else the widget itself."""
    twin = _twins.get(widget)
    if twin is None:
        cls = FAST.get(type(widget))
        if cls is None:
            twin = widget
        else:
            twin = object.__new__(cls)
            twin.__dict__.update(vars(widget))
        _twins[widget] = twin
    return twin


class Form(FlaskForm):
    """Every form's base: Flask-WTF's, its fields rendered with the fast widgets."""

    class Meta:
        def render_field(self, field, render_kw):
            """WTForms' ``render_field``, with the widget's fast twin."""
            other_kw = getattr(field, "render_kw", None)
            if other_kw is not None:
                render_kw = dict(other_kw, **render_kw)
            return fast(field.widget)(field, **render_kw)
