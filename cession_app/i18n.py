"""Locale and time zone selection, and Babel formatting for pages and mails."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from flask import current_app, g, request, session
from flask_babel import get_locale, refresh
from flask_login import current_user

from .config import LANGUAGES
from .extensions import babel


def select_locale():
    """The account's language, else the visitor's choice, else Accept-Language, else default."""
    forced = g.get("mail_locale")
    if forced:
        return forced
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    chosen = session.get("language") if request else None
    if chosen in LANGUAGES:
        return chosen
    if request:
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
    return current_app.config["DEFAULT_LOCALE"]


def select_timezone():
    """The account's time zone, else the configured default."""
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def _zone(tz=None):
    if tz:
        return ZoneInfo(tz) if isinstance(tz, str) else tz
    forced = g.get("mail_timezone")
    if forced:
        return ZoneInfo(forced)
    return ZoneInfo(select_timezone())


def fmt_datetime(value, tz=None, fmt="medium"):
    """A timestamp in the reader's time zone and locale."""
    if value is None:
        return ""
    return format_datetime(value, fmt, tzinfo=_zone(tz), locale=str(get_locale()))


def fmt_date(value, fmt="medium"):
    """A calendar date (no time zone shift) in the reader's locale."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(_zone()).date()
    assert isinstance(value, date)
    return format_date(value, fmt, locale=str(get_locale()))


def fmt_money(amount, currency):
    """An amount with its currency, in the reader's locale."""
    return format_currency(amount, currency, locale=str(get_locale()))


def init_app(app):
    """Wire Flask-Babel and register the formatting filters."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(dt=fmt_datetime, date=fmt_date, money=fmt_money)
    # A request may reuse an app context (tests, CLI): never keep the previous locale.
    app.before_request(refresh)

    @app.context_processor
    def _languages():
        return {
            "LANGUAGES": LANGUAGES,
            "LANGUAGE_NAMES": {"en": "English", "pl": "Polski", "cs": "Čeština", "de": "Deutsch"},
            "current_locale": str(get_locale()),
        }
