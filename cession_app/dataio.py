"""Reseller data in and out: validate a JSON document, upsert it in one transaction, export it.

The format is documented in the README ("Data format"). Messages are for the reseller's
staff on the command line, so they are plain English (not translated).
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from flask_babel import force_locale
from sqlalchemy import select

from . import addresses
from .accounts import sessions
from .extensions import db
from .models import Account, PaymentRequest, Service
from .models.accounts import new_customer_code
from .models.services import SERVICE_STATES

SECTIONS = ("accounts", "services", "payment_requests")
LANGUAGES = ("pl", "cs", "de", "en")
MIN_PASSWORD = 8
MAX_PROBLEMS = 50

_IDENT = re.compile(r"[A-Za-z0-9._@+-]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")


class DataError(Exception):
    """The document has problems; nothing was imported. ``problems`` lists them, one per line."""

    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


class _Bad(Exception):
    """A field value is not acceptable (the message says why; ``part`` names a nested key)."""

    def __init__(self, message, part=None):
        super().__init__(message)
        self.part = part


@dataclass
class Counts:
    """What an import did to one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


# ---------------------------------------------------------------- field checks
def _show(value):
    return json.dumps(value, ensure_ascii=False)


def _string(value, max_len):
    if not isinstance(value, str):
        raise _Bad(f"must be a string, not {_show(value)}")
    if len(value) > max_len:
        raise _Bad(f"must be at most {max_len} characters long")
    return value


def ident(max_len):
    """An identifier: letters, digits and . _ @ + - only (no spaces)."""

    def check(value):
        if not _IDENT.fullmatch(_string(value, max_len)):
            raise _Bad(f"must be letters, digits or . _ @ + - (no spaces), not {_show(value)}")
        return value

    return check


def text(max_len, *, blank=False):
    """Free text without surrounding spaces; empty only when ``blank``."""

    def check(value):
        if _string(value, max_len) != value.strip():
            raise _Bad(f"must not start or end with spaces: {_show(value)}")
        if not value and not blank:
            raise _Bad("must not be empty")
        return value

    return check


def pattern(regex, max_len, expected):
    """A string matching ``regex``; ``expected`` describes it in the message."""

    def check(value):
        if not regex.fullmatch(_string(value, max_len)):
            raise _Bad(f"must be {expected}, not {_show(value)}")
        return value

    return check


def email(value):
    """An address mail can be sent to (addresses.normalize); stored normalized."""
    _string(value, addresses.MAX_LENGTH)
    with force_locale("en"):
        try:
            return addresses.normalize(value)
        except addresses.AddressInvalid as exc:
            raise _Bad(f"must be an e-mail address, not {_show(value)}: {exc.message}") from None


def choice(options):
    """One of ``options``."""

    def check(value):
        if value not in options or not isinstance(value, str):
            raise _Bad(f"must be one of {', '.join(options)}, not {_show(value)}")
        return value

    return check


@cache
def _zones():
    return frozenset(available_timezones())


def timezone(value):
    """An IANA time zone name known to zoneinfo."""
    if _string(value, 64) not in _zones():
        raise _Bad(f"must be a time zone such as Europe/Prague, not {_show(value)}")
    return value


def iso_date(value):
    """A date written YYYY-MM-DD."""
    if not _DATE.fullmatch(_string(value, 10)):
        raise _Bad(f"must be a date written YYYY-MM-DD, not {_show(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad(f"is not a real date: {_show(value)}") from None


def optional_date(value):
    """A date, or null."""
    return None if value is None else iso_date(value)


def boolean(value):
    """true or false (not 0/1, not a string)."""
    if type(value) is not bool:
        raise _Bad(f"must be true or false, not {_show(value)}")
    return value


def amount(value):
    """A non-negative decimal string with at most two decimal places."""
    if not isinstance(value, str):
        raise _Bad(f'must be a string such as "199.00" (not a JSON number), not {_show(value)}')
    if not _AMOUNT.fullmatch(value):
        raise _Bad(f"must be a decimal with at most 2 places, such as 199.00, not {_show(value)}")
    return Decimal(value)


def password(value):
    """A password of at least MIN_PASSWORD characters (stored hashed)."""
    if len(_string(value, 200)) < MIN_PASSWORD:
        raise _Bad(f"must be at least {MIN_PASSWORD} characters long")
    return value


BILLING_FIELDS = {"name": text(200, blank=True), "address": text(2000, blank=True)}
BILLING_FIELDS["vat_id"] = text(32, blank=True)


def billing(value):
    """An object with optional name, address and vat_id (each defaults to "")."""
    if not isinstance(value, dict):
        raise _Bad(f"must be an object, not {_show(value)}")
    result = {}
    for key in value:
        if key not in BILLING_FIELDS:
            raise _Bad(f'has an unknown field "{key}" (allowed: name, address, vat_id)')
    for key, check in BILLING_FIELDS.items():
        try:
            result[key] = check(value.get(key, ""))
        except _Bad as bad:
            raise _Bad(str(bad), part=key) from None
    return result


EMPTY_BILLING = {"name": "", "address": "", "vat_id": ""}

# Per section: field -> (check, default); a default of ... means the field is required.
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
        "domain": (pattern(_DOMAIN, 253, "a domain name in lower case, such as novak.cz"), ...),
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
        "currency": (pattern(_CURRENCY, 3, "three capital letters, such as CZK"), ...),
        "paid_on": (optional_date, None),
    },
}


# ---------------------------------------------------------------- validation
def record_label(section, index, raw):
    """How messages name a record: ``services[3] (id S-1004)``, ``accounts[0] (login novak)``."""
    label = f"{section}[{index}]"
    keys = ("code", "login") if section == "accounts" else ("id",)
    for key in keys:
        if isinstance(raw, dict) and isinstance(raw.get(key), str):
            return f"{label} ({key} {raw[key]})"
    return label


class _Problems(list):
    def add(self, label, message):
        self.append(f"{label}: {message}")


def _check_record(section, raw, label, problems):
    """The record with checked, converted values, or None (problems added)."""
    if not isinstance(raw, dict):
        problems.add(label, f"must be an object, not {_show(raw)}")
        return None
    fields = FIELDS[section]
    ok = True
    for key in raw:
        if key not in fields:
            problems.add(label, f'unknown field "{key}" (allowed: {", ".join(fields)})')
            ok = False
    record = {}
    for key, (check, default) in fields.items():
        if key not in raw:
            if default is ...:
                problems.add(label, f'field "{key}" is missing')
                ok = False
            record[key] = default
            continue
        try:
            record[key] = check(raw[key])
        except _Bad as bad:
            name = f"{key}.{bad.part}" if bad.part else key
            problems.add(label, f'field "{name}" {bad}')
            ok = False
    return record if ok else None


def check_document(data):
    """Check the shape and every value; returns {section: [(label, record)]} or raises."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise DataError(
            ["the document must be a JSON object with accounts, services, payment_requests"]
        )
    for key in data:
        if key not in SECTIONS:
            problems.add("document", f'unknown section "{key}" (allowed: {", ".join(SECTIONS)})')
    document = {}
    for section in SECTIONS:
        rows = data.get(section, [])
        if not isinstance(rows, list):
            problems.add(section, "must be a list")
            rows = []
        checked = []
        for index, raw in enumerate(rows):
            label = record_label(section, index, raw)
            checked.append((label, _check_record(section, raw, label, problems)))
        document[section] = checked
    for label, rec in document["payment_requests"]:
        if rec and rec["due_on"] < rec["issued_on"]:
            problems.add(label, 'field "due_on" is before "issued_on"')
    if problems:
        raise DataError(problems)
    return document


# ---------------------------------------------------------------- the database side
class _Existing:
    """The rows already in the database, loaded once into dicts (no query per record)."""

    def __init__(self):
        accounts = db.session.scalars(select(Account)).all()
        self.by_code = {a.code: a for a in accounts}
        self.by_login = {a.login: a for a in accounts}
        self.by_number = {a.number: a for a in accounts}
        services = db.session.scalars(select(Service)).all()
        self.services = {s.external_id: s for s in services}
        requests = db.session.scalars(select(PaymentRequest)).all()
        self.requests = {p.external_id: p for p in requests}


def _unique_in_file(rows, key, problems):
    seen = {}
    for label, rec in rows:
        value = rec[key]
        if value is None:
            continue
        if value in seen:
            problems.add(label, f'field "{key}" {_show(value)} is also used by {seen[value]}')
        else:
            seen[value] = label


def _match_accounts(rows, existing, problems):
    """The existing account each record updates (by code, else by login), or None."""
    targets, claimed = [], {}
    for label, rec in rows:
        if rec["code"] is not None:
            target = existing.by_code.get(rec["code"])
        else:
            target = existing.by_login.get(rec["login"])
        if target is not None and target.id in claimed:
            problems.add(label, f"updates the same account as {claimed[target.id]}")
        elif target is not None:
            claimed[target.id] = label
        targets.append(target)
    return targets, claimed


def _check_accounts(rows, existing, problems):
    """Unique code, number and login, in the file and against accounts not in the file."""
    for key in ("code", "number", "login"):
        _unique_in_file(rows, key, problems)
    targets, claimed = _match_accounts(rows, existing, problems)
    held = {"number": existing.by_number, "login": existing.by_login}
    for (label, rec), target in zip(rows, targets, strict=True):
        for key, holders in held.items():
            holder = holders.get(rec[key])
            if holder is not None and holder is not target and holder.id not in claimed:
                problems.add(
                    label,
                    f'field "{key}" {_show(rec[key])} belongs to account {holder.code}'
                    " in the database",
                )
    return targets


_NOWHERE = " in the file or the database"


def _check_references(document, existing, problems):
    codes = {rec["code"] for _, rec in document["accounts"]} | existing.by_code.keys()
    for label, rec in document["services"]:
        for key in ("owner", "payer"):
            if rec[key] not in codes:
                problems.add(
                    label,
                    f'field "{key}": no account with code {_show(rec[key])}' + _NOWHERE,
                )
    service_ids = {rec["id"] for _, rec in document["services"]} | existing.services.keys()
    for label, rec in document["payment_requests"]:
        if rec["service"] not in service_ids:
            problems.add(
                label,
                f'field "service": no service with id {_show(rec["service"])}' + _NOWHERE,
            )


def _update(obj, values):
    """Set the attributes that differ; True when any did (so unchanged rows issue no UPDATE)."""
    changed = False
    for attr, value in values.items():
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
            changed = True
    return changed


def _count(counts, is_new, changed):
    if is_new:
        counts.created += 1
    elif changed:
        counts.updated += 1
    else:
        counts.unchanged += 1


def _account_values(rec):
    bill = rec["billing"]
    return {
        "number": rec["number"],
        "login": rec["login"],
        "name": rec["name"],
        "email": rec["email"],
        "language": rec["language"],
        "timezone": rec["timezone"],
        "is_staff": rec["staff"],
        "billing_name": bill["name"],
        "billing_address": bill["address"],
        "vat_id": bill["vat_id"],
    }


def _free_code(taken):
    code = new_customer_code()
    while code in taken:
        code = new_customer_code()
    taken.add(code)
    return code


def _release_identifiers(pairs):
    """Park changed logins and numbers on unique placeholders first, so swaps do not collide."""
    moving = [(a, r) for a, r in pairs if (a.login, a.number) != (r["login"], r["number"])]
    for acc, _rec in moving:
        acc.login = acc.number = f"~import~{acc.id}"
    if moving:
        db.session.flush()


def _upsert_accounts(rows, targets, existing):
    counts = Counts()
    taken = set(existing.by_code) | {rec["code"] for _, rec in rows if rec["code"]}
    _release_identifiers([(t, rec) for (_, rec), t in zip(rows, targets, strict=True) if t])
    for (_label, rec), acc in zip(rows, targets, strict=True):
        is_new = acc is None
        if is_new:
            acc = Account(code=rec["code"] or _free_code(taken))
            db.session.add(acc)
            existing.by_code[acc.code] = acc
        changed = _update(acc, _account_values(rec))
        if rec["password"] is not None and not acc.check_password(rec["password"]):
            acc.set_password(rec["password"])
            if not is_new:  # a new password ends the sessions signed in with the old one
                sessions.end_all(acc)
            changed = True
        _count(counts, is_new, changed)
    db.session.flush()
    return counts


def _upsert_services(rows, existing):
    counts = Counts()
    for _label, rec in rows:
        svc = existing.services.get(rec["id"])
        is_new = svc is None
        if is_new:
            svc = existing.services[rec["id"]] = Service(external_id=rec["id"])
            db.session.add(svc)
        values = {k: rec[k] for k in ("domain", "kind", "expires_on", "state", "auto_renew")}
        values["owner_id"] = existing.by_code[rec["owner"]].id
        values["payer_id"] = existing.by_code[rec["payer"]].id
        _count(counts, is_new, _update(svc, values))
    db.session.flush()
    return counts


def _upsert_requests(rows, existing):
    counts = Counts()
    for _label, rec in rows:
        svc = existing.services[rec["service"]]
        pr = existing.requests.get(rec["id"])
        is_new = pr is None
        if is_new:
            # Made out to the payer of the moment; it stays with the document afterwards.
            pr = existing.requests[rec["id"]] = PaymentRequest(
                external_id=rec["id"], payer_id=svc.payer_id
            )
            db.session.add(pr)
        values = {k: rec[k] for k in ("issued_on", "due_on", "amount", "currency", "paid_on")}
        values["service_id"] = svc.id
        _count(counts, is_new, _update(pr, values))
    db.session.flush()
    return counts


def import_data(data):
    """Validate ``data`` and upsert it into the session (the caller commits).

    Raises DataError, having changed nothing, when any record has a problem.
    Returns {section: Counts}.
    """
    document = check_document(data)
    existing = _Existing()
    problems = _Problems()
    targets = _check_accounts(document["accounts"], existing, problems)
    _check_references(document, existing, problems)
    _unique_in_file(document["services"], "id", problems)
    _unique_in_file(document["payment_requests"], "id", problems)
    if problems:
        raise DataError(problems)
    return {
        "accounts": _upsert_accounts(document["accounts"], targets, existing),
        "services": _upsert_services(document["services"], existing),
        "payment_requests": _upsert_requests(document["payment_requests"], existing),
    }


def summary_line(summary):
    """One line: created/updated/unchanged per kind and the number changed in all."""
    parts = [
        f"{section.replace('_', ' ')}: {c.created} created, {c.updated} updated,"
        f" {c.unchanged} unchanged"
        for section, c in summary.items()
    ]
    changed = sum(c.created + c.updated for c in summary.values())
    return "; ".join(parts) + f" ({changed} changed)"


def load(stream):
    """Parse a JSON document from a text stream; DataError when it is not valid JSON."""
    try:
        return json.load(stream, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise DataError([f"not valid JSON: {exc}"]) from None
    except UnicodeDecodeError:
        raise DataError(["not valid JSON: the file is not UTF-8 text"]) from None


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise DataError([f'not valid: the key "{key}" appears twice in one object'])
    return dict(pairs)


# ---------------------------------------------------------------- export
def _export_account(acc):
    row = {
        "code": acc.code,
        "number": acc.number,
        "login": acc.login,
        "name": acc.name,
        "email": acc.email,
        "language": acc.language,
        "timezone": acc.timezone,
    }
    if acc.is_staff:
        row["staff"] = True
    row["billing"] = {
        "name": acc.billing_name,
        "address": acc.billing_address,
        "vat_id": acc.vat_id,
    }
    return row


def _export_service(svc, codes):
    return {
        "id": svc.external_id,
        "domain": svc.domain,
        "kind": svc.kind,
        "owner": codes[svc.owner_id],
        "payer": codes[svc.payer_id],
        "expires_on": svc.expires_on.isoformat(),
        "state": svc.state,
        "auto_renew": svc.auto_renew,
    }


def _export_request(pr, service_ids):
    return {
        "id": pr.external_id,
        "service": service_ids[pr.service_id],
        "issued_on": pr.issued_on.isoformat(),
        "due_on": pr.due_on.isoformat(),
        "amount": f"{pr.amount:.2f}",
        "currency": pr.currency,
        "paid_on": pr.paid_on.isoformat() if pr.paid_on else None,
    }


def export_data():
    """Everything in the import format (no passwords), each list sorted by its key."""
    accounts = sorted(db.session.scalars(select(Account)), key=lambda a: a.code)
    services = sorted(db.session.scalars(select(Service)), key=lambda s: s.external_id)
    requests = sorted(db.session.scalars(select(PaymentRequest)), key=lambda p: p.external_id)
    codes = {a.id: a.code for a in accounts}
    service_ids = {s.id: s.external_id for s in services}
    return {
        "accounts": [_export_account(a) for a in accounts],
        "services": [_export_service(s, codes) for s in services],
        "payment_requests": [_export_request(p, service_ids) for p in requests],
    }


def dump(data, stream):
    """Write ``data`` as readable JSON (UTF-8 kept as is, two-space indent, final newline)."""
    json.dump(data, stream, ensure_ascii=False, indent=2)
    stream.write("\n")
