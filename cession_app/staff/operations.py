"""Staff console: what staff look up (search, timelines, audit trail) and its CSV export.

Changes go through the operations of their feature (transfers, billing, mailer); this module
only reads, except for the outbox actions, which record their audit event.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import or_, select, union
from sqlalchemy.orm import joinedload, lazyload, selectinload

from .. import audit, mailer, paging
from ..extensions import db
from ..models import (
    Account,
    AuditEvent,
    OutboxMessage,
    PaymentRequest,
    Service,
    TransferItem,
    TransferParty,
    TransferRequest,
)
from ..models.accounts import accounts_by_id as models_accounts_by_id
from ..models.outbox import FAILED
from ..transfers import operations as transfer_operations

SEARCH_LIMIT = 50


def _listed():
    """The loading of requests for a staff list (``staff/_requests.html``): their accounts
    and every domain (the items' services), not their parties nor holder changes, which the
    model loads with every request otherwise (two statements a list shows nothing of)."""
    return (
        joinedload(TransferRequest.from_account),
        joinedload(TransferRequest.to_account),
        selectinload(TransferRequest.items).joinedload(TransferItem.service),
        lazyload(TransferRequest.parties),
        lazyload(TransferRequest.holder_changes),
    )


MAX_ID = 2**31 - 1  # the largest id a PostgreSQL integer column holds
CSV_LIMIT = 100_000


# ---------------------------------------------------------------- search
@dataclass
class Found:
    """Search results, grouped."""

    customers: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    services: list = field(default_factory=list)
    payment_requests: list = field(default_factory=list)

    @property
    def count(self):
        """How many things were found in all groups."""
        return sum(map(len, (self.customers, self.requests, self.services, self.payment_requests)))


def domain_forms(text):
    """A domain as typed, in Unicode and in punycode (either form finds both)."""
    text = text.strip().lower().rstrip(".")
    forms = {text}
    try:
        forms.add(text.encode("idna").decode("ascii"))
    except UnicodeError:
        pass
    try:
        forms.add(text.encode("ascii").decode("idna"))
    except UnicodeError:
        pass
    return sorted(f for f in forms if f)


def request_number(text):
    """The request number in ``text`` ("123" or "#123"), or None (also when too large)."""
    digits = text.strip().removeprefix("#")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return None
    number = int(digits)
    return number if 0 < number <= MAX_ID else None


def search(text):
    """Customers, requests, services and payment requests matching ``text``.

    Every key is matched exactly through an index; only when nothing matches that way is
    ``text`` looked for inside the customers' names (a scan of the accounts).
    """
    text = (text or "").strip()
    if not text:
        return Found()
    lower, domains = text.lower(), domain_forms(text)
    found = Found(
        customers=_search_customers(text, lower, domains),
        requests=_search_requests(request_number(text), domains),
        services=_search_services(text, domains),
        payment_requests=_search_payment_requests(text),
    )
    if not found.count and _may_be_a_name(text):
        found.customers = _search_names(lower)
    return found


def _may_be_a_name(text):
    """Part of a name: three characters or more, no dot or @, not only digits."""
    return len(text) >= 3 and not ({".", "@"} & set(text)) and not text.isdigit()


def _search_customers(text, lower, domains):
    # Each key through its own index, joined by UNION (an OR with the owners' subquery
    # made the database read every account).
    keys = [
        Account.code == lower,
        Account.number == text,
        Account.login.in_(sorted({text, lower})),
        Account.email.in_(sorted({text, lower})),
    ]
    ids = union(
        *(select(Account.id).where(key) for key in keys),
        select(Service.owner_id).where(Service.domain.in_(domains)),
    )
    query = select(Account).where(Account.id.in_(ids)).order_by(Account.name, Account.id)
    return db.session.scalars(query.limit(SEARCH_LIMIT)).all()


def _search_names(lower):
    name = db.func.lower(Account.name).contains(lower, autoescape=True)
    query = select(Account).where(name).order_by(Account.name, Account.id)
    return db.session.scalars(query.limit(SEARCH_LIMIT)).all()


def _search_requests(number, domains):
    query = (
        select(TransferRequest)
        .where(transfer_operations.with_domain(domains, or_id=number))
        .options(*_listed())
        .order_by(TransferRequest.id.desc())
        .limit(SEARCH_LIMIT)
    )
    return db.session.scalars(query).unique().all()


def _search_services(text, domains):
    query = (
        select(Service)
        .where(or_(Service.domain.in_(domains), Service.external_id == text))
        .options(joinedload(Service.owner), joinedload(Service.payer))
        .order_by(Service.domain, Service.kind, Service.id)
        .limit(SEARCH_LIMIT)
    )
    return db.session.scalars(query).unique().all()


def _search_payment_requests(text):
    query = (
        select(PaymentRequest)
        .where(PaymentRequest.external_id.in_({text, text.upper()}))
        .options(joinedload(PaymentRequest.service))
        .limit(SEARCH_LIMIT)
    )
    return db.session.scalars(query).unique().all()


def awaiting_approval(page, per_page):
    """Requests waiting for a staff member's approval, the longest waiting first."""
    query = (
        select(TransferRequest)
        .where(TransferRequest.state == "approval")
        .options(*_listed())
        .order_by(TransferRequest.confirmed_at, TransferRequest.id)
    )
    return paging.paginate(query, page, per_page)


# ---------------------------------------------------------------- customers
def find_customer(code):
    """The account with this customer code, or None."""
    return db.session.scalar(select(Account).filter_by(code=code))


def customer_services(account, page, per_page):
    """One page of the services the account owns or pays."""
    query = (
        select(Service)
        .where(or_(Service.owner_id == account.id, Service.payer_id == account.id))
        .options(joinedload(Service.owner), joinedload(Service.payer))
        .order_by(Service.domain, Service.kind, Service.id)
    )
    return paging.paginate(query, page, per_page)


def customer_requests(account, limit=SEARCH_LIMIT):
    """The latest requests the account is a party of."""
    query = (
        select(TransferRequest)
        .join(TransferParty, TransferParty.request_id == TransferRequest.id)
        .where(TransferParty.account_id == account.id)
        .options(*_listed())
        .order_by(TransferRequest.id.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()


def customer_mails(account, limit=SEARCH_LIMIT):
    """The latest mails written to the account, with their delivery state."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.account_id == account.id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()


def request_mails(request, limit=200):
    """The mails about a request (their bodies name its page), newest first."""
    marker = f"/transfers/requests/{request.id}"
    account_ids = [p.account_id for p in request.parties]
    query = (
        select(OutboxMessage)
        .where(
            or_(OutboxMessage.account_id.in_(account_ids), OutboxMessage.account_id.is_(None)),
            OutboxMessage.created_at >= request.created_at - timedelta(seconds=1),
            OutboxMessage.text_body.contains(marker + "\n")
            | OutboxMessage.text_body.contains(marker + "/")
            | OutboxMessage.text_body.endswith(marker)
            # not rendered yet: the links are among the values kept to render it
            | OutboxMessage.context.contains(marker + '"')
            | OutboxMessage.context.contains(marker + "/"),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return db.session.scalars(query).all()


def customer_sessions(account):
    """The account's live sessions (device, address, when seen last)."""
    from ..accounts import sessions

    return sessions.live_sessions(account)


def sign_out_everywhere(account, actor):
    """End every live session of the account (audited); how many were ended."""
    from ..accounts import sessions

    ended = sessions.end_all(account)
    audit.record("sessions_ended", "account", account.code, actor=actor, count=ended)
    db.session.commit()
    return ended


# ---------------------------------------------------------------- audit events
def _events():
    return select(AuditEvent).options(joinedload(AuditEvent.actor))


def request_timeline(request_id):
    """Every event of a request, the oldest first (the same list its parties see)."""
    return audit.events_of("transfer", request_id)


def customer_events(account, limit=SEARCH_LIMIT):
    """The latest events the account caused or that concern its account."""
    query = _events().where(
        or_(
            AuditEvent.actor_id == account.id,
            (AuditEvent.object_type == "account") & (AuditEvent.object_id == account.code),
        )
    )
    return db.session.scalars(
        query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    ).all()


@dataclass
class AuditFilter:
    """What the audit page narrows to (every field optional)."""

    account: Account | None = None
    request_id: int | None = None
    staff: Account | None = None
    action: str = ""
    since: object = None  # date
    until: object = None  # date, inclusive


def _day_start(day, tz):
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def audit_query(flt, tz=UTC):
    """Events matching the filter, the newest first; days are read in the viewer's zone."""
    query = _events()
    if flt.account is not None:
        query = query.where(
            or_(
                AuditEvent.actor_id == flt.account.id,
                (AuditEvent.object_type == "account") & (AuditEvent.object_id == flt.account.code),
            )
        )
    if flt.request_id is not None:
        query = query.where(
            AuditEvent.object_type == "transfer", AuditEvent.object_id == str(flt.request_id)
        )
    if flt.staff is not None:
        query = query.where(AuditEvent.actor_id == flt.staff.id, AuditEvent.channel == "staff")
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.since:
        query = query.where(AuditEvent.created_at >= _day_start(flt.since, tz))
    if flt.until:
        query = query.where(AuditEvent.created_at < _day_start(flt.until + timedelta(days=1), tz))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell a spreadsheet shows as text: formulas get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


CSV_HEADER = (
    "time_utc",
    "action",
    "channel",
    "actor_code",
    "actor_name",
    "object_type",
    "object_id",
    "ip",
    "user_agent",
    "details",
)


def audit_csv_rows(query):
    """The CSV lines of the events of ``query`` (at most CSV_LIMIT), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values):
        writer.writerow([csv_cell(v) for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_HEADER)
    for event in db.session.scalars(query.limit(CSV_LIMIT)):
        actor = event.actor
        yield line(
            (
                event.created_at.astimezone(UTC).isoformat(),
                event.action,
                event.channel,
                actor.code if actor else "",
                actor.name if actor else "",
                event.object_type,
                event.object_id,
                event.ip,
                event.user_agent,
                json.dumps(event.details or {}, ensure_ascii=False, sort_keys=True),
            )
        )


def known_actions():
    """The kinds of events recorded so far (for the filter)."""
    return db.session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    ).all()


def accounts_by_id(ids):
    """{id: account} of the given ids (for the names in event details)."""
    return models_accounts_by_id({i for i in ids if isinstance(i, int)})


# ---------------------------------------------------------------- outbox
def outbox_message(message_id):
    """A message of the outbox, or None."""
    return db.session.get(OutboxMessage, message_id)


def requeue_mail(message, actor):
    """Put a failed message back in the queue (audited); False when it is not failed."""
    if message.status != FAILED:
        return False
    mailer.requeue(message)
    audit.record("mail_requeued", "mail", message.id, actor=actor, recipient=message.recipient)
    db.session.commit()
    return True


def resend_mail(message, address, actor):
    """Send a copy of a message to another address (audited); the copy, or AddressInvalid."""
    copy = mailer.resend_to(message, address)
    db.session.flush()
    audit.record(
        "mail_resent", "mail", message.id, actor=actor, recipient=copy.recipient, copy=copy.id
    )
    db.session.commit()
    return copy
