"""Reflected and stored XSS: every value put into a translated message is escaped.

Flask-Babel's lazy strings have ``__html__``, so Jinja took ``_l("... %(domain)s", ...)`` for
safe HTML: ``/transfers/?domain=<script>...`` ran script after the victim pressed Next.
"""

import ast
import re
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import render_template_string
from flask_babel import force_locale
from markupsafe import Markup, escape

from cession_app import i18n
from tests.factories import PASSWORD
from tests.i18n_support import extract_catalog

PACKAGE = Path(i18n.__file__).resolve().parent
PAYLOAD = '<script>window.xss=1</script><img src=x onerror="window.xss=2">'
PLACEHOLDER = re.compile(r"%\((\w+)\)s")  # text: where markup could go
NUMBER = re.compile(r"%\((\w+)\)d")  # numbers: %d refuses text, so they get a number


# ---------------------------------------------------------------- the attack from the issue
def _victim_with_a_counterparty(make):
    make.account("victim")
    return make.account("other", code="otherco1")


def test_domain_from_the_query_string_is_escaped_in_the_wizard(client, make, log_in):
    _victim_with_a_counterparty(make)
    log_in("victim")
    start = client.get(f"/transfers/?domain={quote(PAYLOAD)}")
    assert start.status_code == 302
    form = client.get(start.headers["Location"]).get_data(as_text=True)
    assert "<script>" not in form
    answer = client.post(
        "/transfers/wizard/push", data={"domain": PAYLOAD, "code": "otherco1"}
    ).get_data(as_text=True)
    assert "You own no services of the business case" in answer
    assert "<script>" not in answer and "<img src=x" not in answer  # (the logo is an <img>)
    assert str(escape(PAYLOAD)) in answer  # shown as the text it is


@pytest.mark.browser
class TestInChromium:
    """The attack as a victim meets it (SQLite only: the server shares the test's app)."""

    @pytest.fixture(params=["sqlite"])
    def backend(self, request):
        """Browser tests run against SQLite only."""
        return request.param

    def test_wizard_runs_no_script_from_a_crafted_link(self, live_server, page, make):
        _victim_with_a_counterparty(make)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{live_server}/login")
        page.fill("#login", "victim")
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_url("**/services/")
        page.goto(f"{live_server}/transfers/?domain={quote(PAYLOAD)}")  # the crafted link
        page.fill("#code", "otherco1")
        page.locator("#next").click()
        page.wait_for_load_state()
        assert PAYLOAD.lower() in page.locator(".problems").inner_text()  # text, not markup
        assert page.evaluate("window.xss") is None
        assert page.locator("main img").count() == 0
        assert not dialogs
        # The page fixture fails the test on any CSP violation: none means that no inline
        # script or handler even reached the page.


# ---------------------------------------------------------------- every message
def _messages_with_placeholders():
    found = []
    for message in extract_catalog():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        names = {name for text in ids if text for name in PLACEHOLDER.findall(text)}
        numbers = {name for text in ids if text for name in NUMBER.findall(text)}
        if names - {"num"}:
            found.append((message, sorted(names | numbers)))
    return found


def _values(names, numbers=()):
    return {name: 2 if name in numbers or name == "num" else PAYLOAD for name in names}


def _renderings(message, names):
    """The message with markup in every placeholder, as the code and templates render it."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    numbers = {name for text in ids if text for name in NUMBER.findall(text)}
    values = _values(names, numbers)
    if message.pluralizable:
        singular, plural = message.id
        values.pop("num", None)  # ngettext's own count
        lazy = i18n.lazy_ngettext(singular, plural, 2, **values)
        template = "{{ ngettext(s, p, 2, **v) }}"
        context = {"s": singular, "p": plural, "v": {k: v for k, v in values.items()}}
    elif message.context:
        lazy = i18n.lazy_pgettext(message.context, message.id, **values)
        template = "{{ pgettext(c, s, **v) }}"
        context = {"c": message.context, "s": message.id, "v": values}
    else:
        lazy = i18n.lazy_gettext(message.id, **values)
        template = "{{ _(s, **v) }}"
        context = {"s": message.id, "v": values}
    return {
        "lazy string in a template": render_template_string("{{ m }}", m=lazy),
        "lazy string in a flash-like Markup": str(Markup("<p>%s</p>") % lazy),
        "lazy string passed to escape()": str(escape(lazy)),
        "gettext in a template": render_template_string(template, **context),
    }


@pytest.mark.parametrize("lang", ["en", "pl", "cs", "de"])
def test_markup_in_every_placeholder_of_every_message_is_escaped(app, lang):
    messages = _messages_with_placeholders()
    assert len(messages) > 30  # the extraction found the catalog
    problems = []
    with app.test_request_context(), force_locale(lang):
        for message, names in messages:
            for how, html in _renderings(message, names).items():
                if "<script>" in html or "<img" in html:
                    problems.append(f"{how}: {message.id!r}")
                elif PAYLOAD not in unescape(html):
                    problems.append(f"{how}: payload lost in {message.id!r}: {html!r}")
    assert not problems, "\n".join(problems)


def test_lazy_strings_come_from_our_i18n_module():
    """Flask-Babel's own lazy strings are HTML to Jinja: every module imports ours."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_babel"):
                lazy = [a.name for a in node.names if a.name.startswith("lazy_")]
                if lazy:
                    offenders.append(f"{path.relative_to(PACKAGE)}: {', '.join(lazy)}")
    assert not offenders, "import these from cession_app.i18n instead:\n" + "\n".join(offenders)


def test_no_template_marks_data_safe():
    """``|safe`` and Markup() bypass escaping: no page template or module uses them.

    HTML built in Python becomes Markup in one place, ``cession_app/html.py``
    (``safe_html``), and only the modules its docstring names call it, each with the
    reason and the test that shows every value in it is escaped."""
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".html", ".txt", ".py") and path.relative_to(PACKAGE) != Path("html.py"):
            text = path.read_text()
            if re.search(r"\|\s*safe\b|Markup\(|autoescape\s+false", text):
                found.append(str(path.relative_to(PACKAGE)))
    assert not found, found


def test_only_the_reviewed_modules_make_html_safe():
    """``safe_html`` is called where ``html.py`` says, nowhere else: a new caller is
    reviewed (and named there) before this test lets it in."""
    import cession_app.html

    reviewed = {"i18n.py", "widgets.py", "templating.py", "services/listing.py"}
    callers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "html.py" and "safe_html(" in path.read_text()
    }
    assert callers == reviewed
    for name in reviewed:
        assert f"``{name.removesuffix('.py')}``" in cession_app.html.__doc__
