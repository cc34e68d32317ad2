"""One schema per record: accounts, services and payment requests, for import-data and the API.

``check(kind, raw)`` validates one record (a dict decoded from JSON) and returns the record
with converted values and the problems found. Messages go through gettext: the command
line shows them in English, the API in the caller's language; each has a machine ``code``.
Any JSON value, however odd (huge numbers, deep lists, lone surrogates), gives a message,
never an exception.
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from flask_babel import gettext as _

from .. import addresses
from ..models.services import SERVICE_STATES

KINDS = ("accounts", "services", "payment_requests")
LANGUAGES = ("pl", "cs", "de", "en")
MIN_PASSWORD = 8
SHOWN = 60  # characters of a value quoted in a message

_IDENT = re.compile(r"[A-Za-z0-9._@+-]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
# C0/C1 controls except tab and line feed (kept in free text such as an address).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class HugeNumber:
    """A JSON integer too long for Python to convert (kept so that messages can name it)."""

    def __init__(self, digits):
        self.digits = digits

    def __repr__(self):
        return f"<a number of {self.digits} digits>"


@dataclass(frozen=True)
class Problem:
    """One problem with one field (``field`` is None for the record as a whole)."""

    field: str | None
    code: str
    message: str

    def __str__(self):
        return self.message


class Invalid(Exception):
    """A value is not acceptable: ``code`` for machines, ``message`` translated."""

    def __init__(self, code, message, part=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.part = part


# ---------------------------------------------------------------- showing values
def safe_text(text):
    """``text`` printable as UTF-8: lone surrogates become \\udxxx escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def show(value):
    """A short, printable rendering of any JSON value for a message."""
    if isinstance(value, HugeNumber):
        return repr(value)
    if isinstance(value, dict | list):
        size = len(value)
        return f"{{...}} ({size})" if isinstance(value, dict) else f"[...] ({size})"
    if isinstance(value, str) and len(value) > SHOWN:
        value = value[:SHOWN] + "…"
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        shown = "?"
    return safe_text(shown)


# ---------------------------------------------------------------- field checks
def _string(value, max_len, *, controls=True):
    if not isinstance(value, str):
        raise Invalid("type", _("must be a string, not %(value)s", value=show(value)))
    if len(value) > max_len:
        raise Invalid("too_long", _("must be at most %(max)d characters long", max=max_len))
    if (controls and _CONTROL.search(value)) or safe_text(value) != value:
        raise Invalid(
            "control",
            _(
                "must not contain control characters or broken Unicode, as %(value)s does",
                value=show(value),
            ),
        )
    return value


def ident(max_len):
    """An identifier: letters, digits and . _ @ + - only (no spaces)."""

    def check(value):
        if not _IDENT.fullmatch(_string(value, max_len)):
            raise Invalid(
                "format",
                _(
                    "must be letters, digits or . _ @ + - (no spaces), not %(value)s",
                    value=show(value),
                ),
            )
        return value

    check.schema = {"type": "string", "maxLength": max_len, "pattern": "^[A-Za-z0-9._@+-]+$"}
    return check


def text(max_len, *, blank=False):
    """Free text without surrounding spaces; empty only when ``blank``."""

    def check(value):
        if _string(value, max_len) != value.strip():
            raise Invalid(
                "spaces", _("must not start or end with spaces: %(value)s", value=show(value))
            )
        if not value and not blank:
            raise Invalid("empty", _("must not be empty"))
        return value

    check.schema = {"type": "string", "maxLength": max_len, "minLength": 0 if blank else 1}
    return check


def domain(value):
    """A domain name in lower case."""
    if not _DOMAIN.fullmatch(_string(value, 253)):
        raise Invalid(
            "format",
            _(
                "must be a domain name in lower case, such as novak.cz, not %(value)s",
                value=show(value),
            ),
        )
    return value


def currency(value):
    """Three capital letters (ISO 4217)."""
    if not _CURRENCY.fullmatch(_string(value, 3)):
        raise Invalid(
            "format",
            _("must be three capital letters, such as CZK, not %(value)s", value=show(value)),
        )
    return value


def email(value):
    """An address mail can be sent to (addresses.normalize); stored normalized."""
    _string(value, addresses.MAX_LENGTH, controls=False)  # addresses says why, in its words
    try:
        return addresses.normalize(value)
    except addresses.AddressInvalid as exc:
        raise Invalid(
            "email",
            _(
                "must be an e-mail address, not %(value)s: %(reason)s",
                value=show(value),
                reason=str(exc.message),
            ),
        ) from None


def choice(options):
    """One of ``options``."""

    def check(value):
        if not isinstance(value, str) or value not in options:
            raise Invalid(
                "choice",
                _(
                    "must be one of %(options)s, not %(value)s",
                    options=", ".join(options),
                    value=show(value),
                ),
            )
        return value

    check.schema = {"type": "string", "enum": list(options)}
    return check


@cache
def _zones():
    return frozenset(available_timezones())


def timezone(value):
    """An IANA time zone name known to zoneinfo."""
    if _string(value, 64) not in _zones():
        raise Invalid(
            "timezone",
            _("must be a time zone such as Europe/Prague, not %(value)s", value=show(value)),
        )
    return value


def iso_date(value):
    """A date written YYYY-MM-DD."""
    if not _DATE.fullmatch(_string(value, 10)):
        raise Invalid(
            "date", _("must be a date written YYYY-MM-DD, not %(value)s", value=show(value))
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("date", _("is not a real date: %(value)s", value=show(value))) from None


def optional_date(value):
    """A date, or null."""
    return None if value is None else iso_date(value)


def boolean(value):
    """true or false (not 0/1, not a string)."""
    if type(value) is not bool:
        raise Invalid("type", _("must be true or false, not %(value)s", value=show(value)))
    return value


def amount(value):
    """A non-negative decimal string with at most two decimal places."""
    if not isinstance(value, str):
        raise Invalid(
            "type",
            _(
                'must be a string such as "199.00" (not a JSON number), not %(value)s',
                value=show(value),
            ),
        )
    if not _AMOUNT.fullmatch(value):
        raise Invalid(
            "format",
            _(
                "must be a decimal with at most 2 places, such as 199.00, not %(value)s",
                value=show(value),
            ),
        )
    return Decimal(value)


def password(value):
    """A password of at least MIN_PASSWORD characters (stored hashed)."""
    if len(_string(value, 200)) < MIN_PASSWORD:
        raise Invalid("too_short", _("must be at least %(min)d characters long", min=MIN_PASSWORD))
    return value


BILLING_FIELDS = {
    "name": text(200, blank=True),
    "address": text(2000, blank=True),
    "vat_id": text(32, blank=True),
}
EMPTY_BILLING = {"name": "", "address": "", "vat_id": ""}


def billing(value):
    """An object with optional name, address and vat_id (each defaults to "")."""
    if not isinstance(value, dict):
        raise Invalid("type", _("must be an object, not %(value)s", value=show(value)))
    for key in value:
        if key not in BILLING_FIELDS:
            raise Invalid(
                "unknown_field",
                _(
                    'has an unknown field "%(key)s" (allowed: %(allowed)s)',
                    key=safe_text(key[:SHOWN]),
                    allowed=", ".join(BILLING_FIELDS),
                ),
            )
    result = {}
    for key, check in BILLING_FIELDS.items():
        try:
            result[key] = check(value.get(key, ""))
        except Invalid as bad:
            raise Invalid(bad.code, bad.message, part=key) from None
    return result


SCHEMAS = {
    domain: {"type": "string", "maxLength": 253, "example": "novak.cz"},
    currency: {"type": "string", "pattern": "^[A-Z]{3}$", "example": "CZK"},
    email: {"type": "string", "format": "email", "maxLength": addresses.MAX_LENGTH},
    timezone: {"type": "string", "example": "Europe/Prague"},
    iso_date: {"type": "string", "format": "date"},
    optional_date: {"type": "string", "format": "date", "nullable": True},
    boolean: {"type": "boolean"},
    amount: {"type": "string", "pattern": "^[0-9]{1,10}([.][0-9]{1,2})?$", "example": "199.00"},
    password: {"type": "string", "minLength": MIN_PASSWORD, "maxLength": 200, "writeOnly": True},
    billing: {
        "type": "object",
        "additionalProperties": False,
        "properties": {"name": {"type": "string"}, "address": {"type": "string"}},
    },
}
SCHEMAS[billing]["properties"]["vat_id"] = {"type": "string"}


def json_schema(kind):
    """The JSON Schema (OpenAPI 3.0) of a record of ``kind``, from the checks above."""
    properties, required = {}, []
    for key, (check_value, default) in FIELDS[kind].items():
        properties[key] = dict(getattr(check_value, "schema", None) or SCHEMAS[check_value])
        if default is ...:
            required.append(key)
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }


# Per kind: field -> (check, default); a default of ... means the field is required.
FIELDS = {
    "accounts": {
        "code": (ident(32), None),
        "number": (ident(32), ...),
        "login": (ident(64), ...),
        "name": (text(200), ...),
        "email": (email, ...),
        "language": (choice(LANGUAGES), ...),
        "timezone": (timezone, ...),
        "password": (password, None),
        "staff": (boolean, False),
        "billing": (billing, EMPTY_BILLING),
    },
    "services": {
        "id": (ident(64), ...),
        "domain": (domain, ...),
        "kind": (text(32), ...),
        "owner": (ident(32), ...),
        "payer": (ident(32), ...),
        "expires_on": (iso_date, ...),
        "state": (choice(SERVICE_STATES), ...),
        "auto_renew": (boolean, ...),
    },
    "payment_requests": {
        "id": (ident(64), ...),
        "service": (ident(64), ...),
        "issued_on": (iso_date, ...),
        "due_on": (iso_date, ...),
        "amount": (amount, ...),
        "currency": (currency, ...),
        "paid_on": (optional_date, None),
    },
}


# ---------------------------------------------------------------- records
def field_problem(key, bad):
    name = f"{key}.{bad.part}" if bad.part else key
    message = _('field "%(field)s" %(problem)s', field=name, problem=bad.message)
    return Problem(name, bad.code, message)


def _unknown_fields(raw, fields):
    return [
        Problem(
            safe_text(key[:SHOWN]),
            "unknown_field",
            _(
                'unknown field "%(field)s" (allowed: %(allowed)s)',
                field=safe_text(key[:SHOWN]),
                allowed=", ".join(fields),
            ),
        )
        for key in raw
        if key not in fields
    ]


def check(kind, raw, *, partial=False):
    """(record with converted values, or None; [Problem]) for one record of ``kind``.

    ``partial``: fields left out are neither required nor defaulted (an update).
    """
    if not isinstance(raw, dict):
        return None, [Problem(None, "type", _("must be an object, not %(value)s", value=show(raw)))]
    fields = FIELDS[kind]
    problems = _unknown_fields(raw, fields)
    record = {}
    for key, (check_value, default) in fields.items():
        if key not in raw:
            if partial:
                continue
            if default is ...:
                problems.append(
                    Problem(key, "missing", _('field "%(field)s" is missing', field=key))
                )
            else:
                record[key] = default
            continue
        try:
            record[key] = check_value(raw[key])
        except Invalid as bad:
            problems.append(field_problem(key, bad))
    if not problems:
        problems = _record_rules(kind, record)
    return (None if problems else record), problems


def _record_rules(kind, record):
    """Rules across fields of one record."""
    if kind == "payment_requests":
        issued, due = record.get("issued_on"), record.get("due_on")
        if issued and due and due < issued:
            message = _(
                'field "%(field)s" is before "%(other)s"', field="due_on", other="issued_on"
            )
            return [Problem("due_on", "before_issued", message)]
    return []


def label(kind, index, raw):
    """How messages name a record: ``services[3] (id S-1004)``, ``accounts[0] (login novak)``."""
    name = f"{kind}[{index}]"
    keys = ("code", "login") if kind == "accounts" else ("id",)
    for key in keys:
        if isinstance(raw, dict) and isinstance(raw.get(key), str):
            return f"{name} ({key} {safe_text(raw[key][:SHOWN])})"
    return name
