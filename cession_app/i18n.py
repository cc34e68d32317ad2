"""Locale and time zone selection, and Babel formatting for pages and mails.

The locale of a page: the logged-in account's language; else the visitor's explicit
choice (the language switcher, kept in the session); else ``Accept-Language``; else
``DEFAULT_LOCALE``. Mails are rendered inside ``mailer.recipient_context`` instead,
which forces the recipient's language and time zone.
"""

import os
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, support
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, get_currency_symbol
from flask import current_app, g, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations, refresh
from flask_babel.speaklater import LazyString
from flask_login.utils import _get_user
from jinja2 import pass_context
from markupsafe import escape
from wtforms.i18n import messages_path

from .config import LANGUAGES
from .extensions import babel
from .html import safe_html


# ---------------------------------------------------------------- translating, fast
# Flask-Babel finds the catalog anew at every call (several context lookups, ~10 us); a page
# of 50 rows makes hundreds of calls. The catalog of the context's locale is kept with it.
def _babel_context():
    # Flask's context variable, not the ``g`` proxy: a page asks hundreds of times.
    app_context = _cv_app.get(None)
    if app_context is None:  # outside an app context
        return None
    return app_context.g.__dict__.get("_flask_babel")  # None: not created yet


def current_locale():
    """The Babel ``Locale`` of this context (None outside one): Flask-Babel's, read fast."""
    ctx = _babel_context()
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    return locale if locale is not None else get_locale()


def translations():
    """The catalog of this context's locale, kept until the locale changes."""
    ctx = _babel_context()
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    if locale is not None:
        kept = getattr(ctx, "cession_translations", None)
        if kept is not None and kept[0] is locale:
            return kept[1]
    found = get_translations()  # selects the locale first, when not yet done
    ctx = _babel_context()
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    if locale is not None:
        ctx.cession_translations = (locale, found)
    return found


def _kept_with(catalog, name):
    """A dict kept with a catalog itself (so per language and process), for texts made
    from its messages."""
    kept = catalog.__dict__.get(name)
    if kept is None:
        kept = catalog.__dict__[name] = {}
    return kept


def catalog_kept(name):
    """A dict kept with this context's catalog: texts made of its messages, made once."""
    return _kept_with(translations(), name)


def gettext(string, **variables):
    """Flask-Babel's ``gettext``, with the catalog found fast."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular, plural, num, **variables):
    """Flask-Babel's ``ngettext`` (``num`` is a placeholder too), with the catalog found fast."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def pgettext(context, string, **variables):
    """Flask-Babel's ``pgettext``, with the catalog found fast."""
    text = translations().upgettext(context, string)
    return text % variables if variables else text


class LazyText(LazyString):
    """A message translated when used, and plain text: Jinja, Markup and escape() escape it.

    Flask-Babel's lazy strings return themselves from ``__html__``, so Jinja takes them for
    safe HTML and a value put into one (``_l("... %(domain)s", domain=...)``) would reach
    the page unescaped. Import the lazy functions from here, never from flask_babel.
    The text is kept per catalog: a label shown on every row is translated once.
    """

    def __str__(self):
        catalog = translations()
        kept = self.__dict__.get("_kept")  # never getattr: LazyString's would translate
        if kept is not None and kept[0] is catalog:
            return kept[1]
        text = str(self._func(*self._args, **self._kwargs))
        self._kept = (catalog, text)
        return text

    def __html__(self):
        catalog = translations()
        kept = self.__dict__.get("_html")
        if kept is not None and kept[0] is catalog:
            return kept[1]
        html = escape(str(self))
        self._html = (catalog, html)
        return html


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


# The names Babel gives the languages we ship catalogs for (tests/test_i18n_speed.py checks
# them against Babel): asking Babel would keep each one's whole locale data (about 2 MB) in
# every web worker, for the one word the language switcher shows of it.
LANGUAGE_NAMES = {"en": "English", "pl": "Polski", "cs": "Čeština", "de": "Deutsch"}


def language_name(code):
    """A language's name in that language ("Polski", "Čeština"): the switcher shows these."""
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    return babel_language_name(code)


def babel_language_name(code):
    """Babel's name of a language in that language, capitalized."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def _account():
    """The logged-in account of the current request, if any (never outside a request)."""
    if not has_request_context():
        return None
    account = _get_user()  # the object itself: the caller reads it, not the proxy, again
    return account if account.is_authenticated else None


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


@lru_cache(maxsize=256)  # a page formats many timestamps in the reader's one zone
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
        return _valid_zone(select_timezone()) or ZoneInfo(select_timezone())
    if not isinstance(tz, str):
        return tz
    return _valid_zone(tz) or ZoneInfo(select_timezone())


def _locale():
    """The code of this context's locale, kept with it (hashing a Babel ``Locale`` for a
    cache costs Python calls at every use)."""
    ctx = _babel_context()
    locale = getattr(ctx, "babel_locale", None) if ctx is not None else None
    if locale is None:
        locale = get_locale()
        if locale is None:
            return current_app.config["DEFAULT_LOCALE"]
        ctx = _babel_context()
    kept = getattr(ctx, "cession_locale_code", None)
    if kept is not None and kept[0] is locale:
        return kept[1]
    code = str(locale)
    if ctx is not None:
        ctx.cession_locale_code = (locale, code)
    return code


@lru_cache(maxsize=64)
def _babel_locale(code):
    """Babel's Locale of a code, parsed once per process (formatters take it as it is)."""
    return Locale.parse(code)


def parsed_locale(code):
    """Babel's ``Locale`` of a language code, parsed once per process: ``force_locale``
    takes it as it is (given the code, it parses it again at every call)."""
    return _babel_locale(code)


def _aware(value):
    """Stored timestamps are UTC; a naive one is read as UTC, never as the server's time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# One date style per language, from Babel's patterns: (the locale whose patterns are used,
# the width of the date). English is British ("23 Nov 2026"), never "11/23/26"; Polish the
# numeric date with two-digit days ("04.03.2026", as Polish offices write it; Babel's
# short pattern would give "4.03.2026"); Czech "23. 11. 2026".
DATE_STYLES = {"en": ("en_GB", "medium"), "pl": ("pl", "short"), "cs": ("cs", "medium")}
DATE_PATTERNS = {"pl": "dd.MM.y"}


@lru_cache(maxsize=64)
def _style(code):
    """(Babel locale of the patterns, date width) of a language, found once per process."""
    language = code.split("_")[0]
    pattern_locale, width = DATE_STYLES.get(language, (code, "medium"))
    return _babel_locale(pattern_locale), width, DATE_PATTERNS.get(language)


def _date_pattern(style):
    locale, width, pattern = style
    return pattern or locale.date_formats[width].pattern


def _datetime_pattern(style):
    """Date, time in hours and minutes (no seconds), and the zone's short name ("CET",
    "SEČ", "MEZ"; Babel's UTC offset where the language has no name for the zone)."""
    locale, width, _pattern = style
    time = locale.time_formats["short"].pattern
    joined = str(locale.datetime_formats[width])
    return joined.replace("{1}", _date_pattern(style)).replace("{0}", f"{time} z")


def fmt_datetime(value, tz=None, fmt=None):
    """A timestamp in the reader's time zone and language, with the zone's name (filter
    ``dt``): "23. 11. 2026 9:32 SEČ", "23.11.2026, 09:32 CET", "23 Nov 2026, 09:32 CET".

    ``fmt`` is ignored: one style per language everywhere (kept for older callers)."""
    if value is None:
        return ""
    return _format_datetime(_aware(value), _zone(tz), _locale())


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
    return _format_date(value, _locale())


def date_formatter():
    """``fmt_date`` for the many dates (``date``, not timestamps) of one page: the reader's
    language is found once, not per date."""
    code = _locale()

    def fmt(value):
        return "" if value is None else _format_date(value, code)

    return fmt


def datetime_formatter(tz=None):
    """``fmt_datetime`` for the many timestamps of one page, in ``tz`` (else the reader's
    zone): the zone and the language are found once, not per timestamp."""
    zone, code = _zone(tz), _locale()

    def fmt(value):
        return "" if value is None else _format_datetime(_aware(value), zone, code)

    return fmt


def fmt_money(amount, currency):
    """An amount with its currency, in the reader's locale (filter ``money``): "349,00 Kč",
    "1.234,50 €"; a code that stands for the symbol keeps a space from the number
    ("CZK 349.00", where Babel's English pattern says "CZK349.00")."""
    if amount is None:
        return ""
    return _format_money(amount, currency, _locale())


# Formatted values, per locale: a page shows the same few dates and amounts on many rows.
@lru_cache(maxsize=4096)
def _format_datetime(value, zone, code):
    style = _style(code)  # English with British patterns and zone names ("CET", not "+0100")
    return format_datetime(value, _datetime_pattern(style), tzinfo=zone, locale=style[0])


@lru_cache(maxsize=4096)
def _format_date(value, code):
    style = _style(code)
    return format_date(value, _date_pattern(style), locale=style[0])


@lru_cache(maxsize=4096)
def _format_money(amount, currency, code):
    locale = _babel_locale(code)
    if get_currency_symbol(currency, locale) != currency:
        return format_currency(amount, currency, locale=locale)
    pattern = re.sub("¤(?=[#0])", "¤\xa0", locale.currency_formats["standard"].pattern)
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


@pass_context
def _template_gettext(context, string, **variables):
    """Jinja's newstyle ``gettext``: the message as Markup where autoescaping, its
    placeholders filled in (escaped), ``%%`` written as ``%``."""
    return _message(translations(), context, string, variables)


def _message(catalog, context, string, variables):
    if not variables and context.eval_ctx.autoescape:
        # A page shows dozens of fixed messages (headings, labels, one per row): each is
        # looked up and made Markup once per catalog and process, not at every use.
        kept = _kept_with(catalog, "cession_markup")
        text = kept.get(string)
        if text is None:
            text = safe_html(catalog.ugettext(string))
            text = kept[string] = text % variables if "%" in text else text
        return text
    text = catalog.ugettext(string)
    if context.eval_ctx.autoescape:
        text = safe_html(text)
    return text % variables if variables or "%" in text else text


def _render_gettext(catalog):
    """``_template_gettext`` for one render, its catalog found once (a page has dozens)."""
    kept = _kept_with(catalog, "cession_markup")

    @pass_context
    def gettext(context, string, **variables):
        if not variables and context.eval_ctx.autoescape:
            text = kept.get(string)
            if text is not None:
                return text
        return _message(catalog, context, string, variables)

    return gettext


def _template_globals():
    gettext = _render_gettext(translations())
    return {
        "LANGUAGES": languages(),
        "language_name": language_name,
        "current_locale": _locale(),
        "_": gettext,
        "gettext": gettext,
    }


def init_app(app):
    """Wire Flask-Babel and register the formatting filters."""
    app.config.setdefault("LANGUAGES", LANGUAGES)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(  # Flask-Babel's, with the catalog found fast
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    # ``_()`` and ``{% trans %}`` in one call, not Jinja's four (``_`` looks ``gettext`` up).
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(dt=fmt_datetime, date=fmt_date, money=fmt_money)
    app.jinja_env.globals.update(
        datetime_formatter=datetime_formatter, date_formatter=date_formatter
    )
    # A request may reuse an app context (tests, CLI): never keep the previous locale.
    app.before_request(refresh)

    @app.before_request
    def _wtforms_messages():
        # Flask-WTF reads this request attribute before loading its own catalog.
        request.wtforms_translations = WTFORMS_MESSAGES

    app.context_processor(_template_globals)
