"""Reseller data in and out: validate a JSON document, upsert it in one transaction, export it.

The format is documented in the README ("Data format"). Messages are for the reseller's
staff on the command line, so they are plain English (not translated).
"""

import json
import re
from dataclasses import dataclass, field

from flask_babel import force_locale
from sqlalchemy import select

from . import blocking, records
from .accounts import sessions
from .extensions import db
from .models import Account, PaymentRequest, Service
from .models.accounts import new_customer_code
from .records import FIELDS, safe_text, show

SECTIONS = records.KINDS
MAX_PROBLEMS = 50
# Deeper than any document of ours: the position named when JSON nests too deep to parse.
MAX_DEPTH = 64

__all__ = ["FIELDS", "SECTIONS", "DataError", "check_document", "import_data", "load"]


class DataError(Exception):
    """The document has problems; nothing was imported. ``problems`` lists them, one per line."""

    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Counts:
    """What an import did to one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    progress: object = field(default=None, repr=False, compare=False)  # called per record


# ---------------------------------------------------------------- validation
record_label = records.label


class _Problems(list):
    def add(self, label, message):
        self.append(f"{label}: {message}")


def _check_record(section, raw, label, problems):
    """The record with checked, converted values, or None (problems added)."""
    record, found = records.check(section, raw)
    for problem in found:
        problems.add(label, problem.message)
    return record


def check_document(data):
    """Check the shape and every value; returns {section: [(label, record)]} or raises.

    Messages are in English (for the command line); the API shows the same ones translated.
    """
    with force_locale("en"):
        return _check_document(data)


def _check_document(data):
    problems = _Problems()
    if not isinstance(data, dict):
        raise DataError(
            ["the document must be a JSON object with accounts, services, payment_requests"]
        )
    for key in data:
        if key not in SECTIONS:
            problems.add(
                "document",
                f'unknown section "{safe_text(key[:60])}" (allowed: {", ".join(SECTIONS)})',
            )
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
            problems.add(label, f'field "{key}" {show(value)} is also used by {seen[value]}')
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
                    f'field "{key}" {show(rec[key])} belongs to account {holder.code}'
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
                    f'field "{key}": no account with code {show(rec[key])}' + _NOWHERE,
                )
    service_ids = {rec["id"] for _, rec in document["services"]} | existing.services.keys()
    for label, rec in document["payment_requests"]:
        if rec["service"] not in service_ids:
            problems.add(
                label,
                f'field "service": no service with id {show(rec["service"])}' + _NOWHERE,
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
    if counts.progress is not None:
        counts.progress(1)
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


def _upsert_accounts(rows, targets, existing, progress=None):
    counts = Counts(progress=progress)
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


def _upsert_services(rows, existing, progress=None):
    counts = Counts(progress=progress)
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


def _upsert_requests(rows, existing, progress=None):
    counts = Counts(progress=progress)
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


def _role_changes(rows, existing):
    """[(label, service, field, old code, new code)] for owners and payers the file changes."""
    codes = {a.id: code for code, a in existing.by_code.items()}
    found = []
    for label, rec in rows:
        svc = existing.services.get(rec["id"])
        if svc is None:
            continue
        for key, current in (("owner", svc.owner_id), ("payer", svc.payer_id)):
            if codes.get(current) != rec[key]:
                found.append((label, svc, key, codes.get(current), rec[key]))
    return found


def _check_open_requests(changes, force, problems):
    """Owner or payer changes of services in an open request: refused unless ``force``."""
    from .transfers.operations import locked_service_ids

    locked = locked_service_ids({svc.id for _, svc, *_rest in changes})
    if not force:
        for label, svc, key, _old, _new in changes:
            if svc.id in locked:
                problems.add(
                    label,
                    f'field "{key}": service {svc.external_id} is in an open transfer request;'
                    " import with --force (API: ?force=true) to change it anyway, and that"
                    " request fails",
                )
    return locked


def _touched_services(document, existing):
    """The ids of the existing services whose blocks the document may change."""
    ids = {rec["id"] for _, rec in document["services"]}
    by_id = {svc.id: ext for ext, svc in existing.services.items()}
    for _label, rec in document["payment_requests"]:
        ids.add(rec["service"])
        pr = existing.requests.get(rec["id"])
        if pr is not None:  # the service it belonged to until now
            ids.add(by_id.get(pr.service_id))
    return {i for i in ids if i in existing.services}


def _blocks(existing, service_ids):
    """{service id: blocking.blocks} from the loaded rows (no query per service)."""
    wanted = {existing.services[i].id: i for i in service_ids}
    open_ids = {i: [] for i in service_ids}
    for pr in existing.requests.values():
        if pr.service_id in wanted and pr.is_open:
            open_ids[wanted[pr.service_id]].append(pr.external_id)
    return {i: blocking.blocks(existing.services[i].state, open_ids[i]) for i in service_ids}


def import_data(data, *, force=False, changes=None, progress=None):
    """Validate ``data`` and upsert it into the session (the caller commits).

    Raises DataError, having changed nothing, when any record has a problem. An owner or
    payer change of a service in an open transfer request is a problem unless ``force``,
    which fails that request. ``changes``, a list, receives a line per owner or payer
    change; ``progress(n)`` is called as records are written. Returns {section: Counts}.
    """
    document = check_document(data)
    existing = _Existing()
    problems = _Problems()
    targets = _check_accounts(document["accounts"], existing, problems)
    _check_references(document, existing, problems)
    _unique_in_file(document["services"], "id", problems)
    _unique_in_file(document["payment_requests"], "id", problems)
    roles = [] if problems else _role_changes(document["services"], existing)
    locked = _check_open_requests(roles, force, problems) if roles else set()
    if problems:
        raise DataError(problems)
    if changes is not None:
        changes += [f"{svc.external_id}: {key} {old} -> {new}" for _l, svc, key, old, new in roles]
    touched = _touched_services(document, existing)
    before = _blocks(existing, touched)
    summary = {
        "accounts": _upsert_accounts(document["accounts"], targets, existing, progress),
        "services": _upsert_services(document["services"], existing, progress),
        "payment_requests": _upsert_requests(document["payment_requests"], existing, progress),
    }
    if locked:
        from .transfers.operations import fail_for_outside_change

        failed = fail_for_outside_change(locked)
        if changes is not None:
            changes += [f"transfer request {i} failed (owner or payer changed)" for i in failed]
    for event in blocking.record_changes(before, _blocks(existing, touched)):
        if changes is not None:
            changes.append(f"{event.object_id}: {event.action} ({event.details['reason']})")
    return summary


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
    """Parse a JSON document from a text stream; DataError (never another error) when invalid."""
    try:
        text = stream.read()
    except UnicodeDecodeError:
        raise DataError(["not valid JSON: the file is not UTF-8 text"]) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise DataError([f"not valid JSON: {exc}"]) from None
    except RecursionError:
        raise DataError([f"not valid: {_too_deep(text)}"]) from None


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(text):
    """Where the text nests lists and objects deeper than MAX_DEPTH (a message), or None."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - text.rfind("\n", 0, match.start())
                return (
                    f"nested more than {MAX_DEPTH} levels deep at line {line}"
                    f" column {column} (char {match.start()})"
                )
        elif token in "]}":
            depth -= 1
    return f"nested more than {MAX_DEPTH} levels deep"


def _integer(digits):
    """An int; a number too long for Python is kept as HugeNumber (refused by every field)."""
    try:
        return int(digits)
    except ValueError:
        return records.HugeNumber(len(digits.lstrip("-")))


def _no_duplicate_keys(pairs):
    seen = set()
    for key, _value in pairs:
        if key in seen:
            raise DataError(
                [f'not valid: the key "{safe_text(key[:60])}" appears twice in one object']
            )
        seen.add(key)
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
