"""Translating and formatting fast gives the same text as Flask-Babel and Babel do."""

from datetime import UTC, date, datetime
from decimal import Decimal

import flask_babel
from flask_babel import force_locale

from cession_app import i18n
from cession_app.i18n import lazy_gettext as _l


def test_the_language_names_are_babels():
    for code, name in i18n.LANGUAGE_NAMES.items():
        assert name == i18n.babel_language_name(code)
    assert i18n.language_name("sk") == i18n.babel_language_name("sk") == "Slovenčina"


def test_fast_gettext_follows_the_locale_as_flask_babel_does(app):
    with app.test_request_context("/"):
        for language in ("en", "pl", "cs", "de", "en"):
            with force_locale(language):
                for text in ("Expired", "Log in", "My services"):
                    assert i18n.gettext(text) == flask_babel.gettext(text)
                rendered = app.jinja_env.from_string("{{ _('My services') }}").render()
                assert rendered == flask_babel.gettext("My services")
                n = i18n.ngettext("%(num)d service", "%(num)d services", 3)
                assert n == flask_babel.ngettext("%(num)d service", "%(num)d services", 3)


def test_a_lazy_string_is_kept_per_locale(app):
    label = _l("Expired")
    with app.test_request_context("/"):
        with force_locale("cs"):
            czech = str(label)
            assert str(label) == czech == flask_babel.gettext("Expired")
        with force_locale("de"):
            assert str(label) == flask_babel.gettext("Expired") != czech
        with force_locale("cs"):
            assert str(label) == czech


def test_cached_formatters_give_each_locale_its_own_style(app):
    when = datetime(2026, 3, 4, 22, 30, tzinfo=UTC)
    expected = {
        "pl": ("04.03.2026", "1\xa0234,50\xa0€", "04.03.2026, 23:30 CET"),
        "cs": ("4. 3. 2026", "1\xa0234,50\xa0€", "4. 3. 2026 23:30 SEČ"),
        "de": ("04.03.2026", "1.234,50\xa0€", "04.03.2026, 23:30 MEZ"),
    }
    with app.test_request_context("/"):
        for language in ("pl", "cs", "de", "cs", "pl"):  # back and forth: no locale leaks
            with force_locale(language):
                got = (
                    i18n.fmt_date(date(2026, 3, 4)),
                    i18n.fmt_money(Decimal("1234.5"), "EUR"),
                    i18n.fmt_datetime(when, tz="Europe/Prague"),
                )
                assert got == expected[language]
