"""Locale and time zone selection, and Babel formatting for pages and mails.

The locale of a page: the logged-in account's language; else the visitor's explicit
choice (the language switcher, kept in the session); else ``Accept-Language``; else
``DEFAULT_LOCALE``. Mails are rendered inside ``mailer.recipient_context`` instead,
which forces the recipient's language and time zone.
"""

import os
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, support
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, get_currency_symbol
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale, gettext, ngettext, pgettext, refresh
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape
from wtforms.i18n import messages_path

from .config import LANGUAGES
from .extensions import babel


class LazyText(LazyString):
    """A message translated when used, and plain text: Jinja, Markup and escape() escape it.

    Flask-Babel's lazy strings return themselves from ``__html__``, so Jinja takes them for
    safe HTML and a value put into one (``_l("... %(domain)s", domain=...)``) would reach
    the page unescaped. Import the lazy functions from here, never from flask_babel.
    """

    def __html__(self):
        return escape(str(self))


def lazy_gettext(string, **variables):
    """``gettext`` when the message is used; the result is text, never HTML."""
    return LazyText(gettext, string, **variables)


def lazy_ngettext(singular, plural, num, **variables):
    """``ngettext`` when the message is used; the result is text, never HTML."""
    return LazyText(ngettext, singular, plural, num, **variables)


def lazy_pgettext(context, string, **variables):
    """``pgettext`` when the message is used; the result is text, never HTML."""
    return LazyText(pgettext, context, string, **variables)


def languages():
    """The languages offered (setting ``LANGUAGES``; English is the source language)."""
    return tuple(current_app.config["LANGUAGES"])


def language_name(code):
    """A language's name in that language ("Polski", "Čeština"): the switcher shows these."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def _account():
    """The logged-in account of the current request, if any (never outside a request)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user
    return None


def select_locale():
    """The account's language, else the visitor's choice, else Accept-Language, else default."""
    forced = g.get("mail_locale")
    if forced:
        return forced
    offered = languages()
    if _is_api():
        return _accepted_language(offered) or current_app.config["DEFAULT_LOCALE"]
    account = _account()
    if account is not None and account.language in offered:
        return account.language
    if has_request_context():
        chosen = session.get("language")
        if chosen in offered:
            return chosen
        accepted = _accepted_language(offered)
        if accepted:
            return accepted
    return current_app.config["DEFAULT_LOCALE"]


def _is_api():
    """The API speaks the language of Accept-Language only (no session, no account); its
    reference page is a page like the others."""
    if not has_request_context() or request.endpoint == "api.reference":
        return False
    return request.path.startswith("/api/")


def _accepted_language(offered):
    """The offered language the browser prefers most; a regional tag (en-GB) counts as its
    language, so "en-GB, pl;q=0.5" is English (Werkzeug's best_match would say Polish)."""
    for value, quality in request.accept_languages:  # highest quality first
        primary = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in offered:
            return primary
    return None


def remember_language(code):
    """Keep an explicit choice in the session; a logged-in account also saves it (caller commits).

    Returns False (and changes nothing) when ``code`` is not an offered language.
    """
    if code not in languages():
        return False
    session["language"] = code
    account = _account()
    if account is not None:
        account.language = code
    refresh()  # messages flashed in this request are already in the new language
    return True


def _valid_zone(name):
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def select_timezone():
    """The mail recipient's or the account's time zone, else the configured default."""
    forced = g.get("mail_timezone")
    if _valid_zone(forced):
        return forced
    account = _account()
    if account is not None and _valid_zone(account.timezone):
        return account.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def _zone(tz=None):
    if not tz:  # None, "" or a template's undefined variable: the reader's zone
        return ZoneInfo(select_timezone())
    if not isinstance(tz, str):
        return tz
    return _valid_zone(tz) or ZoneInfo(select_timezone())


def _locale():
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def _aware(value):
    """Stored timestamps are UTC; a naive one is read as UTC, never as the server's time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# One date style per language, from Babel's patterns: (the locale whose patterns are used,
# the width of the date). English is British ("23 Nov 2026"), never "11/23/26"; Polish the
# numeric date ("23.11.2026", never "23 lis 2026" next to it); Czech "23. 11. 2026".
DATE_STYLES = {"en": ("en_GB", "medium"), "pl": ("pl", "short"), "cs": ("cs", "medium")}


def _style():
    """(Babel locale of the patterns, date width) of the reader's language."""
    code = _locale()
    pattern_locale, width = DATE_STYLES.get(code.split("_")[0], (code, "medium"))
    return Locale.parse(pattern_locale), width


def _date_pattern(style):
    locale, width = style
    return locale.date_formats[width].pattern


def _datetime_pattern(style):
    """Date, time in hours and minutes (no seconds), and the zone's short name ("CET",
    "SEČ", "MEZ"; Babel's UTC offset where the language has no name for the zone)."""
    locale, width = style
    time = locale.time_formats["short"].pattern
    joined = str(locale.datetime_formats[width])
    return joined.replace("{1}", _date_pattern(style)).replace("{0}", f"{time} z")


def fmt_datetime(value, tz=None, fmt=None):
    """A timestamp in the reader's time zone and language, with the zone's name (filter
    ``dt``): "23. 11. 2026 9:32 SEČ", "23.11.2026, 09:32 CET", "23 Nov 2026, 09:32 CET".

    ``fmt`` is ignored: one style per language everywhere (kept for older callers)."""
    if value is None:
        return ""
    style = _style()  # English with British patterns and zone names ("CET", not "+0100")
    return format_datetime(
        _aware(value), _datetime_pattern(style), tzinfo=_zone(tz), locale=style[0]
    )


def fmt_date(value, fmt=None):
    """A calendar date in the reader's language (filter ``date``): "23. 11. 2026",
    "23.11.2026", "23 Nov 2026".

    A ``date`` is shown as it is; a timestamp is first moved to the reader's time zone.
    ``fmt`` is ignored: one style per language everywhere (kept for older callers)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(_zone()).date()
    if not isinstance(value, date):
        raise TypeError(f"not a date: {value!r}")
    style = _style()
    return format_date(value, _date_pattern(style), locale=style[0])


def fmt_money(amount, currency):
    """An amount with its currency, in the reader's locale (filter ``money``): "349,00 Kč",
    "1.234,50 €"; a code that stands for the symbol keeps a space from the number
    ("CZK 349.00", where Babel's English pattern says "CZK349.00")."""
    if amount is None:
        return ""
    locale = _locale()
    if get_currency_symbol(currency, locale) != currency:
        return format_currency(amount, currency, locale=locale)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    pattern = re.sub("¤(?=[#0])", "¤\xa0", pattern)
    return format_currency(amount, currency, format=pattern, locale=locale)


class WTFormsMessages:
    """WTForms' built-in messages ("This field is required.") in the current locale.

    Flask-WTF looks its catalog up by the exact locale, but WTForms names some
    catalogs with a region (Czech is ``cs_CZ``): we also try those.
    """

    def __init__(self):
        self._cache = {}

    def _catalog(self):
        code = _locale()
        if code not in self._cache:
            path = messages_path()
            regional = sorted(d for d in os.listdir(path) if d.startswith(code + "_"))
            self._cache[code] = support.Translations.load(path, [code, *regional], domain="wtforms")
        return self._cache[code]

    def ugettext(self, string):
        """Translate one message."""
        return self._catalog().ugettext(string)

    def ungettext(self, singular, plural, n):
        """Translate a message with a count."""
        return self._catalog().ungettext(singular, plural, n)


WTFORMS_MESSAGES = WTFormsMessages()


def _template_globals():
    return {
        "LANGUAGES": languages(),
        "language_name": language_name,
        "current_locale": _locale(),
    }


def init_app(app):
    """Wire Flask-Babel and register the formatting filters."""
    app.config.setdefault("LANGUAGES", LANGUAGES)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(dt=fmt_datetime, date=fmt_date, money=fmt_money)
    # A request may reuse an app context (tests, CLI): never keep the previous locale.
    app.before_request(refresh)

    @app.before_request
    def _wtforms_messages():
        # Flask-WTF reads this request attribute before loading its own catalog.
        request.wtforms_translations = WTFORMS_MESSAGES

    app.context_processor(_template_globals)
