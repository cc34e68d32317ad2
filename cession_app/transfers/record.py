"""The transfer record: the facts of an ended request, kept with their SHA-256, as a PDF.

When a request ends, ``freeze`` keeps what it did (services, what changed, parties, and
every event with when, how and from where) as canonical JSON with its SHA-256. A party or
staff downloads it as a PDF in their own language (``pdf_copy``); the PDF prints the hash of
the content, and the hash of each issued file is kept, so ``verify`` can later tell a copy
we issued from one changed by even one byte.
"""

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import bulk
from .. import labels as service_labels
from ..extensions import db
from ..i18n import fmt_datetime
from ..i18n import lazy_gettext as _l
from ..models import Account, AuditEvent, TransferRecord, TransferRecordCopy
from . import labels

FONTS = Path(__file__).resolve().parent.parent / "fonts"
STAFF_READER = "staff"
KEYWORDS = re.compile(rb"cession-record request=(\d{1,18}) reader=([\w.-]{1,32}) lang=(\w{2,5})")

# What each recorded action was, as the record says it.
ACTIONS = {
    "transfer_requested": _l("Request created"),
    "transfer_confirmed": _l("Confirmed"),
    "transfer_fully_confirmed": _l("Confirmed by everyone"),
    "transfer_link_resent": _l("Confirmation link sent again"),
    "transfer_reminded": _l("Reminder sent"),
    "transfer_executed": _l("Executed"),
    "transfer_declined": _l("Declined"),
    "transfer_cancelled": _l("Cancelled"),
    "transfer_expired": _l("Expired without all confirmations"),
    "transfer_failed": _l("Could not be executed"),
    # Staff interventions (cession_app/staff/): the same words as the staff timeline.
    "transfer_confirmed_on_behalf": _l("Confirmed by support on behalf of a customer"),
    "transfer_link_sent_elsewhere": _l("Confirmation link sent to another address"),
    "transfer_approved": _l("Approved by the provider"),
}
CHANNELS = {
    "panel": _l("in the customer panel"),
    "link": _l("through the link in the e-mail"),
    "staff": _l("by the provider's staff"),
    "api": _l("through the API"),
    "worker": _l("automatically"),
    "cli": _l("by the provider's administrator"),
    "system": _l("automatically"),
}


def _iso(value):
    return value.isoformat() if value else None


def _party(party):
    account = party.account
    return {
        "account_id": account.id,
        "code": account.code,
        "name": account.name,
        "roles": party.role_list,
        "must_confirm": party.must_confirm,
        "confirmed_at": _iso(party.confirmed_at),
        "declined_at": _iso(party.declined_at),
    }


def _item(item, codes):
    service = item.service
    return {
        "service": service.external_id,
        "kind": service.kind,
        "domain": service.domain,
        "owner": [codes[item.old_owner_id], codes[item.new_owner_id]],
        "payer": [codes[item.old_payer_id], codes[item.new_payer_id]],
    }


def _event(event, codes):
    return {
        "at": _iso(event.created_at),
        "action": event.action,
        "actor": codes.get(event.actor_id),
        "actor_id": event.actor_id,
        "channel": event.channel,
        "ip": event.ip,
    }


def account_ids(request, events):
    """Every account a record names: parties, owners and payers, actors of ``events``."""
    ids = {p.account_id for p in request.parties} | {e.actor_id for e in events if e.actor_id}
    ids |= {i for item in request.items for i in (item.old_owner_id, item.new_owner_id)}
    ids |= {i for item in request.items for i in (item.old_payer_id, item.new_payer_id)}
    return ids


def content(request):
    """The request's facts as plain data (what the hash covers)."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "transfer", AuditEvent.object_id == str(request.id))
        .order_by(AuditEvent.id)
    ).all()
    ids = account_ids(request, events)
    rows = db.session.execute(select(Account.id, Account.code).where(Account.id.in_(ids)))
    return content_of(request, events, {account_id: code for account_id, code in rows})


def content_of(request, events, codes):
    """``content`` from events and account codes already read (the executor reads them per
    batch); ``events`` have ``created_at``, ``action``, ``actor_id``, ``channel`` and ``ip``."""
    return {
        "request": request.id,
        "domain": request.domain,
        "domains": request.domains,
        "direction": request.direction,
        "change": request.change,
        "state": request.state,
        "created_at": _iso(request.created_at),
        "ended_at": _iso(request.ended_at),
        "services": [_item(item, codes) for item in request.items],
        "parties": [_party(p) for p in request.parties],
        "events": [_event(e, codes) for e in events],
    }


def canonical(data):
    """The one byte form of the content that the hash is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(data):
    """SHA-256 of the content, in hex."""
    return hashlib.sha256(canonical(data)).hexdigest()


def freeze(request, data=None):
    """Keep the record of a request that has just ended (in the caller's transaction).

    ``data``: its content when the caller has built it (``content_of``).
    """
    if data is None:
        db.session.flush()  # the end's own event is part of the record
        data = content(request)
    record = TransferRecord(request_id=request.id, content=data, sha256=digest(data))
    db.session.add(record)
    return record


def freeze_batch(records):
    """``freeze`` for several requests with one INSERT (the executor's batch; caller commits).

    ``records``: (request, content) pairs, the content built by the caller (``content_of``).
    """
    rows = [
        {"request_id": request.id, "content": data, "sha256": digest(data)}
        for request, data in records
    ]
    bulk.insert_rows(TransferRecord.__table__, rows)


def record_of(request):
    """The kept record of an ended request, or None while it is open."""
    return db.session.scalar(select(TransferRecord).where(TransferRecord.request_id == request.id))


def pdf_copy(record, reader, language, timezone, staff=False):
    """The PDF of a record for a reader (an account, or staff), remembered by its hash."""
    reader_code = STAFF_READER if staff else reader.code
    with force_locale(language):
        data = _render(record, reader_code, language, timezone, staff)
    file_hash = hashlib.sha256(data).hexdigest()
    known = db.session.scalar(
        select(TransferRecordCopy).where(TransferRecordCopy.file_sha256 == file_hash)
    )
    if known is None:
        db.session.add(
            TransferRecordCopy(
                record_id=record.id, file_sha256=file_hash, reader=reader_code, language=language
            )
        )
    db.session.commit()
    return data


class Verdict:
    """What ``verify`` found: ok, and a sentence saying why."""

    def __init__(self, ok, message, record=None):
        self.ok, self.message, self.record = ok, message, record


def verify(data):
    """Check a PDF file: issued by us, unchanged, and its record unchanged since."""
    copy = db.session.scalar(
        select(TransferRecordCopy).where(
            TransferRecordCopy.file_sha256 == hashlib.sha256(data).hexdigest()
        )
    )
    if copy is None:
        found = KEYWORDS.search(data)
        if found:
            return Verdict(
                False,
                f"NOT VALID: this file claims to be a record of request {found.group(1)}, "
                "but it is not a copy we issued: it has been changed.",
            )
        return Verdict(False, "NOT VALID: this file is not a transfer record we issued.")
    record = copy.record
    if digest(record.content) != record.sha256:
        return Verdict(False, "NOT VALID: the kept record itself has been changed.", record)
    return Verdict(
        True,
        f"VALID: record of transfer request {record.request_id}, issued "
        f"{copy.issued_at:%Y-%m-%d %H:%M} UTC to {copy.reader} ({copy.language}); "
        f"content SHA-256 {record.sha256}.",
        record,
    )


# ---------------------------------------------------------------- the PDF
def _when(value, timezone):
    return fmt_datetime(datetime.fromisoformat(value), tz=timezone) if value else ""


def _names(data):
    return {p["code"]: p["name"] for p in data["parties"]}


def _who(code, names):
    if not code:
        return ""
    return f"{names[code]} ({code})" if code in names else code


def _new_pdf(record, reader_code, language):
    from fpdf import FPDF  # only the record's download needs it

    pdf = FPDF(format="A4")
    pdf.set_creation_date(record.created_at)
    pdf.set_creator(current_app.config.get("BRAND_NAME") or "cession")
    pdf.set_title(_("Transfer record %(number)s", number=record.request_id))
    pdf.set_keywords(
        f"cession-record request={record.request_id} reader={reader_code} lang={language}"
    )
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def _heading(pdf, text, size=11):
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", size)
    pdf.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)


def _line(pdf, text):
    pdf.multi_cell(0, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")


def _render(record, reader_code, language, timezone, staff):
    data = record.content
    names = _names(data)
    pdf = _new_pdf(record, reader_code, language)
    _heading(pdf, _("Transfer record %(number)s", number=data["request"]), size=15)
    _line(pdf, _("Domain: %(domain)s", domain=", ".join(data.get("domains") or [data["domain"]])))
    _line(pdf, str(labels.transfer_direction_label(data["direction"])))
    _line(pdf, _("Changes: %(change)s", change=labels.transfer_change_label(data["change"])))
    _line(pdf, _("Outcome: %(state)s", state=labels.transfer_state_label(data["state"])))
    _line(pdf, _("Created: %(when)s", when=_when(data["created_at"], timezone)))
    _line(pdf, _("Ended: %(when)s", when=_when(data["ended_at"], timezone)))

    _heading(pdf, _("Services"))
    for item in data["services"]:
        kind = service_labels.kind_label(item["kind"])
        _line(pdf, f"{kind} · {item['domain']} ({item['service']})")
        for label, (old, new) in ((_("Owner"), item["owner"]), (_("Payer"), item["payer"])):
            change = f"{_who(old, names)} → {_who(new, names)}" if old != new else _who(old, names)
            _line(pdf, f"    {label}: {change}")

    _heading(pdf, _("Parties"))
    for party in data["parties"]:
        roles = ", ".join(str(labels.transfer_role_label(r)) for r in party["roles"])
        _line(pdf, f"{party['name']} ({party['code']}) · {roles}")
        confirmed, declined = party["confirmed_at"], party["declined_at"]
        if confirmed:
            _line(pdf, "    " + _("Confirmed: %(when)s", when=_when(confirmed, timezone)))
        elif declined:
            _line(pdf, "    " + _("Declined: %(when)s", when=_when(declined, timezone)))
        elif not party["must_confirm"]:
            _line(pdf, "    " + _("Informed only; no confirmation needed"))

    _heading(pdf, _("What happened, when and how"))
    for event in data["events"]:
        what = ACTIONS.get(event["action"], event["action"])
        how = CHANNELS.get(event["channel"], event["channel"])
        text = f"{_when(event['at'], timezone)} · {what} · {how}"
        if event["actor"]:
            text += " · " + _who(event["actor"], names)
        # A client address is shown only to staff and to the party whose action it was.
        if event["ip"] and (staff or event["actor"] == reader_code):
            text += " · " + _("from the address %(ip)s", ip=event["ip"])
        _line(pdf, text)

    _heading(pdf, _("Check this record"))
    _line(pdf, _("SHA-256 of the record's content: %(hash)s", hash=record.sha256))
    _line(
        pdf,
        _(
            "The provider keeps this hash and the hash of every copy it issues, so it can"
            " confirm that this file is unchanged."
        ),
    )
    return bytes(pdf.output())
