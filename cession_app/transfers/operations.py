"""Transfer operations: create, confirm, decline, cancel, resend, execute, expire, remind.

Every operation commits its change together with its audit events and outbox mails.
"""

import json
import logging
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, func, literal, or_, select, true, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import addresses, audit, mailer, site_settings, tokens
from ..accounts import two_factor
from ..extensions import built_once, db, dialect_name, one_of
from ..i18n import fmt_date, fmt_datetime, fmt_money, lazy_ngettext
from ..i18n import lazy_gettext as _l
from ..labels import kind_label
from ..models import (
    Account,
    AuditEvent,
    PaymentRequest,
    Service,
    TransferItem,
    TransferParty,
    TransferRequest,
)
from ..models.base import utcnow
from ..models.transfers import OPEN_STATES
from . import labels, rules
from . import record as transfer_record

log = logging.getLogger("cession.transfers")

CONFIRM_PURPOSE = "transfer-confirm"


class TransferRefused(Exception):
    """The request cannot be made or executed; ``reasons`` maps a service (or None) to reasons."""

    def __init__(self, reasons):
        super().__init__("transfer refused")
        self.reasons = reasons


def locked_service_ids(service_ids, exclude_request_id=None):
    """The ids among ``service_ids`` that are already in an open request."""
    query = select(TransferItem.service_id).where(
        # '= true', not 'IS true': only then can the partial unique index serve it.
        TransferItem.active == true(),
        TransferItem.service_id.in_(list(service_ids)),
    )
    if exclude_request_id is not None:
        query = query.where(TransferItem.request_id != exclude_request_id)
    return set(db.session.scalars(query))


def case_services(domain, owner_id):
    """The services of a business case owned by ``owner_id``, with their payment requests."""
    return cases_services([domain], owner_id)


def cases_services(domains, owner_id):
    """The services of several business cases owned by ``owner_id``, case by case."""
    domains = list(dict.fromkeys(domains))
    query = (
        select(Service)
        .where(Service.domain.in_(domains), Service.owner_id == owner_id)
        .options(selectinload(Service.payment_requests))
        .order_by(Service.kind, Service.id)
    )
    services = db.session.scalars(query).all()
    return sorted(services, key=lambda s: domains.index(s.domain))


def with_domain(domains, or_id=None):
    """A condition on TransferRequest: one of its business cases is among ``domains`` (or
    its number is ``or_id``).

    One ``id IN (... UNION ...)`` rather than an OR: each part is found through its index,
    where an OR with a subquery makes the database read every request (15 ms at 100k
    requests on PostgreSQL, against 1.4 ms)."""
    domains = list(domains)
    parts = [
        select(TransferRequest.id).where(TransferRequest.domain.in_(domains)),
        select(TransferItem.request_id)
        .join(Service, Service.id == TransferItem.service_id)
        .where(Service.domain.in_(domains)),
    ]
    if or_id is not None:
        parts.append(select(literal(or_id, Integer)))
    return TransferRequest.id.in_(union(*parts))


def check_services(
    services,
    *,
    direction,
    initiator_id,
    other_id,
    exclude_request_id=None,
    creating=True,
    handed_over=(),
    change="both",
    locked=None,
):
    """All rules over the chosen services: {service: [Reason]} for those that cannot move.

    The owners' protection (a lock on outgoing transfers, the lock after a move) decides
    whether a request may be made (``creating``), not whether one already agreed executes.
    Unpaid payment requests in ``handed_over`` (external ids) do not block when the payer
    changes and the provider allows handing them over (``PAYMENT_HANDOVER``). ``locked``:
    the ids of those already in another open request, when the caller has read them.
    """
    if locked is None:
        locked = locked_service_ids([s.id for s in services], exclude_request_id)
    now, lock_days = utcnow(), current_app.config["TRANSFER_LOCK_DAYS_AFTER_MOVE"]
    handover = current_app.config["PAYMENT_HANDOVER"]
    found = {}
    for service in services:
        reasons = rules.ownership_reasons(
            service, direction=direction, initiator_id=initiator_id, other_id=other_id
        ) + rules.service_reasons(service, locked=service.id in locked, handover=handover)
        reasons = rules.without_handed_over(reasons, set(handed_over), change)
        if creating and not any(r.code == "not_owner" for r in reasons):
            reasons += rules.protection_reasons(
                service, service.owner, now=now, lock_days=lock_days
            )
        if reasons:
            found[service] = reasons
    return found


def open_payment_ids(services, change):
    """The unpaid payment requests a new payer could take over (when the payer changes and
    the provider allows it), as external ids."""
    if not (current_app.config["PAYMENT_HANDOVER"] and rules.payer_changes(change)):
        return []
    return [pr.external_id for s in services for pr in s.payment_requests if pr.is_open]


@built_once
def _payment_requests_of():
    """The payment requests ``ids`` (external ids) of the services ``services`` (ids),
    each service's oldest first."""
    return (
        select(PaymentRequest)
        .where(
            one_of(PaymentRequest.service_id, "services"), one_of(PaymentRequest.external_id, "ids")
        )
        .order_by(PaymentRequest.issued_on, PaymentRequest.id)
    )


def handed_over_payments(request):
    """(service, payment request) of the open payment requests the request hands over, in
    the order of its items, each service's oldest first: read in one statement."""
    ids = set(request.handover_payments or ())
    if not ids:  # most requests hand nothing over: no need to load any payment request
        return []
    services = {item.service_id: item.service for item in request.items}
    found = {}
    wanted = {"services": list(services), "ids": list(ids)}
    for pr in db.session.scalars(_payment_requests_of(), wanted):
        found.setdefault(pr.service_id, []).append(pr)
    return [(services[sid], pr) for sid in services for pr in found.get(sid, ()) if pr.is_open]


def must_take_over(request, party):
    """True when this party becomes the payer of services whose unpaid payment requests
    the request hands over: it confirms only by accepting them."""
    return bool(request.handover_payments) and "payer_to" in party.role_list


def _refuse_unless_taken_over(request, party, accepted, message):
    """A new payer's confirmation (its own or support's) is refused, nothing changed, until
    it has accepted the unpaid payment requests it takes over."""
    if must_take_over(request, party) and not accepted:
        db.session.rollback()
        raise ActionRefused(message)


def provider_today(now=None):
    """Today in the provider's time zone: scheduled requests take effect by its calendar."""
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return (now or utcnow()).astimezone(zone).date()


def find_request_by_submit_key(submit_key):
    """The request a wizard submission already created, if any (double submit)."""
    if not submit_key:
        return None
    return db.session.scalar(select(TransferRequest).filter_by(submit_key=submit_key))


def create_request(
    initiator,
    *,
    direction,
    domain,
    other,
    service_ids,
    change="both",
    notify_email=None,
    submit_key=None,
    execute_on=None,
    take_over_payments=False,
    holder_change=False,
    more_domains=(),
):
    """Create a transfer request and queue its confirmation mails, in one transaction.

    ``more_domains``: further business cases of the same other party (``domain`` is the
    first); ``service_ids`` may be of any of them. ``holder_change``: True for every moving
    domain, or the moving domains whose holder is to change.
    Raises TransferRefused with the reasons when a rule forbids it. A repeated
    ``submit_key`` returns the request already created.
    """
    existing = find_request_by_submit_key(submit_key)
    if existing is not None:
        return existing
    notify_email = _notify_address(notify_email)
    _lock_account(initiator.id)  # one creation at a time per account: the hourly limit holds
    problems = [r for r in [creation_limit_reason(initiator)] if r]
    problems = problems or rules.counterparty_reasons(initiator, other)
    problems = problems or rules.schedule_reasons(execute_on, provider_today())
    if problems:
        db.session.rollback()
        raise TransferRefused({None: problems})
    owner_id = initiator.id if direction == "push" else other.id
    domains = [domain, *more_domains]
    services = [s for s in cases_services(domains, owner_id) if s.id in set(service_ids)]
    empty = [d for d in dict.fromkeys(domains) if not any(s.domain == d for s in services)]
    if empty and services:
        raise TransferRefused({None: [rules.empty_case_reason(d) for d in empty]})
    if not services or len(services) != len(set(service_ids)):
        raise TransferRefused(
            {
                None: [
                    rules.Reason(
                        "no_services",
                        _l("Please choose at least one service of this business case."),
                    )
                ]
            }
        )
    handed_over = open_payment_ids(services, change) if take_over_payments else []
    refused = check_services(
        services,
        direction=direction,
        initiator_id=initiator.id,
        other_id=other.id,
        handed_over=handed_over,
        change=change,
    )
    if refused:
        raise TransferRefused(refused)
    request = _build_request(
        initiator, direction, domain, other, services, change, notify_email, submit_key
    )
    request.execute_on = execute_on
    request.handover_payments = handed_over or None
    _set_holder_change(request, services, change, holder_change)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        existing = find_request_by_submit_key(submit_key)
        if existing is not None:
            return existing
        raise TransferRefused(
            {
                None: [
                    rules.Reason(
                        "locked",
                        _l(
                            "One of these services has just been put into another transfer request."
                        ),
                    )
                ]
            }
        ) from exc
    audit.record(
        "transfer_requested",
        "transfer",
        request.id,
        actor=initiator,
        direction=direction,
        change=change,
        services=[s.external_id for s in services],
        domains=list(dict.fromkeys(s.domain for s in services)),
    )
    _accept_automatically(request)
    queue_creation_mails(request)
    db.session.commit()
    return request


def _set_holder_change(request, services, change, wanted):
    """The holder change asked for: every moving domain (True), or those named."""
    moving = rules.moving_domains(services, change)
    chosen = moving if wanted is True else [d for d in moving if d in set(wanted or ())]
    request.holder_change = bool(chosen)
    # One moving domain: None keeps the request as it was before several domains.
    request.holder_domains = chosen if chosen and len(moving) > 1 else None


def _notify_address(value):
    """The extra address to notify, normalized (None when not given), or TransferRefused."""
    if not value:
        return None
    try:
        return addresses.normalize(value)
    except addresses.AddressInvalid as exc:
        raise TransferRefused({None: [rules.Reason("notify_email", exc.message)]}) from None


def _lock_account(account_id):
    """Serialize request creation per account until the transaction ends."""
    table = Account.__table__
    if _is_sqlite():  # one writer at a time: a no-op write takes the lock
        db.session.execute(update(table).where(table.c.id == account_id).values(id=table.c.id))
    else:
        db.session.execute(select(table.c.id).where(table.c.id == account_id).with_for_update())


def creation_limit_reason(account, now=None):
    """A Reason when ``account`` made TRANSFER_REQUESTS_PER_HOUR requests in the last hour."""
    limit = current_app.config["TRANSFER_REQUESTS_PER_HOUR"]
    if limit <= 0:
        return None
    now = now or utcnow()
    recent = db.session.scalars(
        select(TransferRequest.created_at)
        .where(
            TransferRequest.initiator_id == account.id,
            TransferRequest.created_at > now - timedelta(hours=1),
        )
        .order_by(TransferRequest.created_at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    text = lazy_ngettext(
        "You have made %(num)d transfer request in the last hour, the most we accept."
        " You can make the next one after %(time)s.",
        "You have made %(num)d transfer requests in the last hour, the most we accept."
        " You can make the next one after %(time)s.",
        limit,
        time=fmt_datetime(recent[-1] + timedelta(hours=1), fmt="short"),
    )
    return rules.Reason("too_many_requests", text)


def _build_request(initiator, direction, domain, other, services, change, notify_email, submit_key):
    now = utcnow()
    request = TransferRequest(
        direction=direction,
        change=change,
        domain=domain,
        initiator_id=initiator.id,
        from_account_id=initiator.id if direction == "push" else other.id,
        to_account_id=other.id if direction == "push" else initiator.id,
        notify_email=notify_email or None,
        notify_language=initiator.language,
        submit_key=submit_key,
        state="awaiting",
        created_at=now,
        expires_at=now + timedelta(days=site_settings.get("TRANSFER_EXPIRY_DAYS")),
    )
    triples = []
    for service in services:
        new_owner, new_payer = rules.change_roles(
            change, direction, initiator.id, other.id, service
        )
        triples.append((service, new_owner, new_payer))
        request.items.append(
            TransferItem(
                service_id=service.id,
                active=True,
                old_owner_id=service.owner_id,
                old_payer_id=service.payer_id,
                new_owner_id=new_owner,
                new_payer_id=new_payer,
            )
        )
    for account_id, (roles, must_confirm) in sorted(rules.parties(triples).items()):
        request.parties.append(
            TransferParty(
                account_id=account_id,
                roles=",".join(roles),
                must_confirm=must_confirm,
            )
        )
    db.session.add(request)
    return request


# ---------------------------------------------------------------- confirmation links
def party_fingerprint(request, party):
    """Changes once the party acts or the request ends, so a link works once."""
    return tokens.fingerprint(party.id, party.confirmed_at, party.declined_at, request.state)


def confirm_token(request, party):
    """The signed token of a party's confirmation link."""
    payload = {"r": request.id, "a": party.account_id, "f": party_fingerprint(request, party)}
    return tokens.make_token(CONFIRM_PURPOSE, payload)


def confirm_link(request, party):
    """The absolute confirmation link for a party (built from BASE_URL)."""
    return mailer.link(
        "transfers.respond", request_id=request.id, token=confirm_token(request, party)
    )


class LinkRefused(Exception):
    """A confirmation link that cannot be used; ``status`` and a translated ``message``."""

    def __init__(self, status, message):
        super().__init__(str(message))
        self.status = status
        self.message = message


def check_link(request_id, token, loader=None):
    """The (request, party) a confirmation link is for, or LinkRefused saying why not.

    ``loader`` reads the request: ``load_request`` (the default) for a change, a page that
    only shows it passes ``reading.read_request``.
    """
    # A link lives as long as the longest lifetime a request may have been given. The
    # setting as this process read it lately (no statement per link): the request's own
    # expiry and state, read below, decide whether it may still be answered.
    days = (
        current_app.config["TRANSFER_EXPIRY_DAYS"],
        site_settings.get("TRANSFER_EXPIRY_DAYS", kept=True),
    )
    max_age = max(days) * 86400
    try:
        payload = tokens.load_token(CONFIRM_PURPOSE, token, max_age=max_age)
    except tokens.TokenExpired as exc:
        raise LinkRefused(410, _l("This confirmation link has expired.")) from exc
    except tokens.TokenInvalid as exc:
        raise LinkRefused(
            400,
            _l(
                "This confirmation link is not valid. Please open the link exactly as it"
                " arrived in the e-mail."
            ),
        ) from exc
    if not isinstance(payload, dict) or payload.get("r") != request_id:
        raise LinkRefused(400, _l("This confirmation link belongs to another request."))
    request = (loader or load_request)(request_id)
    party = request.party_for(payload.get("a")) if request else None
    if party is None or not party.must_confirm:
        raise LinkRefused(400, _l("This confirmation link was not made for this request."))
    _check_link_state(request, party, payload.get("f"))
    return request, party


def _check_link_state(request, party, fingerprint):
    if request.state != "awaiting":
        raise LinkRefused(
            410,
            _l(
                "This request no longer awaits confirmation (its state: %(state)s), so the"
                " link no longer works.",
                state=labels.transfer_state_label(request.state),
            ),
        )
    if party.has_acted or fingerprint != party_fingerprint(request, party):
        raise LinkRefused(
            410,
            _l("This link has already been used: you have already answered this request."),
        )
    if request.expires_at <= utcnow():
        raise LinkRefused(410, _l("This confirmation link has expired."))


def queue_confirmation(request, party, template="confirm_request"):
    """Queue the mail with the confirmation link to one party."""
    subjects = {
        "confirm_request": _l(
            "Please confirm the transfer of services of %(domain)s", domain=request.domain_names
        ),
        "reminder": _l(
            "Reminder: the transfer of %(domain)s awaits your confirmation",
            domain=request.domain_names,
        ),
    }
    account = db.session.get(Account, party.account_id)
    mailer.queue_to_account(
        template,
        subjects[template],
        account,
        request=request,
        party=party,
        confirm_url=confirm_link(request, party),
        handover=handed_over_payments(request) if must_take_over(request, party) else [],
        details_url=mailer.link("transfers.detail", request_id=request.id),
    )
    party.link_sent_at = utcnow()


def _accept_automatically(request):
    """Parties that only gain services, from an account on their auto-accept list, confirm."""
    from_code = db.session.get(Account, request.from_account_id).code
    now = utcnow()
    for party in request.parties:
        if (
            party.must_confirm
            and party.account_id != request.initiator_id
            and rules.accepts_automatically(party.account, party.role_list, from_code)
        ):
            party.confirmed_at = now
            audit.record(
                "transfer_confirmed",
                "transfer",
                request.id,
                actor=party.account_id,
                channel="system",
                automatic=True,
            )
    _confirmed_if_everyone(request, now)


def queue_creation_mails(request):
    """Links to the confirming parties; a notice to the others and to the extra address."""
    for party in request.parties:
        if party.must_confirm and party.confirmed_at is None:
            queue_confirmation(request, party)
        else:
            account = db.session.get(Account, party.account_id)
            mailer.queue_to_account(
                "request_notice",
                _l("Services of %(domain)s are being transferred", domain=request.domain_names),
                account,
                request=request,
                accepted_automatically=party.confirmed_at is not None,
                details_url=mailer.link("transfers.detail", request_id=request.id),
            )
    if request.notify_email:
        mailer.queue(
            "request_notice",
            _l("Services of %(domain)s are being transferred", domain=request.domain_names),
            request.notify_email,
            language=request.notify_language,
            request=request,
            details_url=None,
        )


# ---------------------------------------------------------------- loading and locking
class ActionRefused(Exception):
    """A party or the initiator may not do this now; ``message`` says why (translated)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _eager():
    return (
        selectinload(TransferRequest.items).joinedload(TransferItem.service),
        selectinload(TransferRequest.parties),
    )


def load_request(request_id):
    """A request with everything its pages show, in two statements.

    The request with its parties and their accounts (joined: a few rows), then its items
    with their services. Holder changes are read only by a page that shows them (a request
    that asked for one).
    """
    # (request, party) rows, not ``joinedload(parties)``: that loader and the ``unique()``
    # it needs cost about 90 Python calls more at every page than filling the list here.
    rows = db.session.execute(_LOAD_REQUEST, {"request_id": request_id}).all()
    if not rows:
        return None
    request = rows[0][0]
    if "parties" not in request.__dict__:  # as a joined load: a loaded list stays
        parties = [party for _request, party in rows if party is not None]
        set_committed_value(request, "parties", parties)
    if "items" not in request.__dict__:
        # One plain statement built once, not ``selectinload``: that loader builds its
        # ``IN`` statement and walks its loader paths anew at every page (~350 calls).
        items = db.session.scalars(_LOAD_ITEMS, {"request_id": request_id}).all()
        set_committed_value(request, "items", items)
    return request


# Built once: their SQL is compiled and cached once too. A party's account is joined (its
# relationship loads that way); a request always has parties (the initiator is one), the
# outer join keeps one without any all the same.
_LOAD_REQUEST = (
    select(TransferRequest, TransferParty)
    .outerjoin(TransferParty, TransferParty.request_id == TransferRequest.id)
    .where(TransferRequest.id == bindparam("request_id"))
    .options(
        lazyload(TransferRequest.parties),
        lazyload(TransferRequest.items),
        lazyload(TransferRequest.holder_changes),
    )
    .order_by(TransferParty.id)
)
_LOAD_ITEMS = (
    select(TransferItem)
    .join(TransferItem.service)
    .where(TransferItem.request_id == bindparam("request_id"))
    .options(contains_eager(TransferItem.service))
    .order_by(TransferItem.id)
)


def can_view(request, account):
    """Only the parties (the initiator is one) and staff see a request."""
    if account is None or not account.is_authenticated:
        return False
    return account.is_staff or request.party_for(account.id) is not None


def _is_sqlite():
    return dialect_name() == "sqlite"


def _lock(request_id, states=OPEN_STATES):
    """The request re-read under a lock, or None when it is no longer in ``states``.

    PostgreSQL locks its row (FOR UPDATE); SQLite has one writer at a time, so a no-op
    write takes the database's write lock before anything is read.
    """
    table = TransferRequest.__table__
    if _is_sqlite():
        db.session.execute(
            update(table).where(table.c.id == request_id).values(state=table.c.state)
        )
    query = (
        select(TransferRequest)
        .where(TransferRequest.id == request_id, TransferRequest.state.in_(states))
        .options(*_eager())
        .execution_options(populate_existing=True)
    )
    if not _is_sqlite():
        query = query.with_for_update(of=TransferRequest)
    return db.session.scalars(query).one_or_none()


def _locked_or_refuse(request, states=OPEN_STATES):
    locked = _lock(request.id, states)
    if locked is None:
        db.session.rollback()
        raise ActionRefused(_l("This request has already ended; nothing was changed."))
    return locked


# ---------------------------------------------------------------- party actions
def _acting_party(request, account_id):
    if request.expires_at <= utcnow():
        db.session.rollback()
        raise ActionRefused(_l("This request has expired; nothing was changed."))
    party = request.party_for(account_id)
    if party is None or not party.must_confirm:
        db.session.rollback()
        raise ActionRefused(_l("Your confirmation is not needed for this request."))
    if party.has_acted:
        db.session.rollback()
        raise ActionRefused(_l("You have already answered this request."))
    return party


def _confirmed_if_everyone(request, now):
    """Once every party confirmed: confirmed (executed soon), or awaiting staff approval."""
    if not all(p.confirmed_at is not None for p in request.parties if p.must_confirm):
        return
    request.confirmed_at = now
    request.state = "approval" if site_settings.get("REQUIRE_APPROVAL") else "confirmed"
    audit.record("transfer_fully_confirmed", "transfer", request.id)


def approve(request, actor):
    """Staff (or the reseller's API key: ``actor`` None) approve a confirmed request: the
    worker executes it."""
    request = _locked_or_refuse(request, ("approval",))
    request.state = "confirmed"
    audit.record("transfer_approved", "transfer", request.id, actor=getattr(actor, "id", None))
    db.session.commit()
    return request


def reject(request, actor, reason):
    """Staff decline a request awaiting approval; every party is told why."""
    request = _locked_or_refuse(request, ("approval",))
    _end(request, "declined", actor=actor.id, staff_reason=reason, by_staff=True)
    db.session.commit()
    return request


def password_needed(party):
    """True when the party's account asks for its password to confirm (not for staff)."""
    return bool(party.account.confirm_with_password) and audit.current_channel() != "staff"


def second_factor_accepted(party):
    """True when the party may confirm with a two-factor code instead of its password."""
    return two_factor.is_enabled(party.account)


PASSWORD_TRIES_PER_HOUR = 5


def _check_confirm_password(request, party, password):
    """Refuse (and count) a wrong password; after five wrong ones an hour, refuse them all."""
    since = utcnow() - timedelta(hours=1)
    tries = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "transfer_password_refused",
            AuditEvent.object_type == "transfer",
            AuditEvent.object_id == str(request.id),
            AuditEvent.actor_id == party.account_id,
            AuditEvent.created_at >= since,
        )
    )
    if tries >= PASSWORD_TRIES_PER_HOUR:
        db.session.rollback()
        raise ActionRefused(
            _l("The password was wrong too many times. Please try again in an hour.")
        )
    if party.account.check_password(password or ""):
        return
    # With two-factor authentication on, a code from the app (or a recovery code) does too.
    if password and second_factor_accepted(party) and two_factor.verify(party.account, password):
        return
    db.session.rollback()
    audit.record("transfer_password_refused", "transfer", request.id, actor=party.account_id)
    db.session.commit()
    raise ActionRefused(
        _l(
            "Your protection settings ask for your password (or a two-factor code) to"
            " confirm. It did not match."
        )
        if second_factor_accepted(party)
        else _l("Your protection settings ask for your password to confirm. It did not match.")
    )


def confirm(request, party, password=None, take_over_payments=False):
    """The party confirms (once); the last confirmation makes the request confirmed.

    An account whose protection settings ask for it must give its password too; a new
    payer taking over unpaid payment requests must accept them (``take_over_payments``).
    """
    request = _locked_or_refuse(request, ("awaiting",))
    party = _acting_party(request, party.account_id)
    _refuse_unless_taken_over(
        request,
        party,
        take_over_payments,
        _l(
            "To confirm, please tick that you take over the unpaid payment requests"
            " listed; otherwise decline, or ask for them to be paid first."
        ),
    )
    if password_needed(party):
        _check_confirm_password(request, party, password)
    now = utcnow()
    party.confirmed_at = now
    audit.record("transfer_confirmed", "transfer", request.id, actor=party.account_id)
    _confirmed_if_everyone(request, now)
    db.session.commit()
    return request


def decline(request, party):
    """The party declines: the request ends, everyone is told."""
    request = _locked_or_refuse(request, ("awaiting",))
    party = _acting_party(request, party.account_id)
    party.declined_at = utcnow()
    _end(request, "declined", actor=party.account_id)
    db.session.commit()
    return request


def cancel(request, actor):
    """The initiator withdraws the request while it is open."""
    if actor.id != request.initiator_id:
        raise ActionRefused(_l("Only the customer who made the request can cancel it."))
    request = _locked_or_refuse(request)
    _end(request, "cancelled", actor=actor.id)
    db.session.commit()
    return request


def resend(request, party, actor=None):
    """Send a party its confirmation link again."""
    request = _locked_or_refuse(request, ("awaiting",))
    party = _acting_party(request, party.account_id)
    queue_confirmation(request, party)
    audit.record(
        "transfer_link_resent",
        "transfer",
        request.id,
        actor=actor,
        party=party.account_id,
    )
    db.session.commit()
    return party


# ---------------------------------------------------------------- staff interventions
def _staff_party(request, account_id):
    """The party staff act for: it must still be asked to confirm (else ActionRefused)."""
    party = request.party_for(account_id)
    if party is None or not party.must_confirm:
        db.session.rollback()
        raise ActionRefused(_l("This customer does not need to confirm this request."))
    if party.has_acted:
        db.session.rollback()
        raise ActionRefused(_l("This customer has already answered this request."))
    if request.expires_at <= utcnow():
        db.session.rollback()
        raise ActionRefused(_l("This request has expired; nothing was changed."))
    return party


def staff_cancel(request, actor, reason):
    """Staff end an open request; every party is told, with the reason."""
    request = _locked_or_refuse(request)
    _end(request, "cancelled", actor=actor.id, staff_reason=reason, by_staff=True)
    db.session.commit()
    return request


def send_link_elsewhere(request, party, address, actor, reason):
    """Send a party's link once to another address (the account's address stays as it is)."""
    try:
        address = addresses.normalize(address)
    except addresses.AddressInvalid as exc:
        raise ActionRefused(exc.message) from None
    request = _locked_or_refuse(request, ("awaiting",))
    party = _staff_party(request, party.account_id)
    account = db.session.get(Account, party.account_id)
    mailer.queue(
        "confirm_request",
        _l("Please confirm the transfer of services of %(domain)s", domain=request.domain_names),
        address,
        account=account,
        request=request,
        party=party,
        confirm_url=confirm_link(request, party),
        details_url=mailer.link("transfers.detail", request_id=request.id),
    )
    party.link_sent_at = utcnow()
    audit.record(
        "transfer_link_sent_elsewhere",
        "transfer",
        request.id,
        actor=actor,
        party=party.account_id,
        address=address,
        reason=reason,
    )
    queue_staff_notice(request, "link_elsewhere", party, reason)
    db.session.commit()
    return address


def confirm_on_behalf(request, party, actor, reason, reference, take_over_payments=False):
    """Staff confirm for a party whose identity they checked (e.g. its mailbox is dead). A
    new payer taking over unpaid payment requests must have accepted them, as when it
    confirms itself (``take_over_payments``: staff say that it has)."""
    request = _locked_or_refuse(request, ("awaiting",))
    party = _staff_party(request, party.account_id)
    _refuse_unless_taken_over(
        request,
        party,
        take_over_payments,
        _l(
            "This customer becomes the payer of the unpaid payment requests listed: confirm"
            " on their behalf only once they have accepted them, and tick that they have."
        ),
    )
    now = utcnow()
    party.confirmed_at = now
    audit.record(
        "transfer_confirmed_on_behalf",
        "transfer",
        request.id,
        actor=actor,
        party=party.account_id,
        reason=reason,
        reference=reference,
    )
    queue_staff_notice(request, "confirmed_on_behalf", party, reason, reference=reference)
    _confirmed_if_everyone(request, now)
    db.session.commit()
    return request


def queue_staff_notice(request, action, party, reason, reference=None):
    """Tell every party what the provider's support did on the request, and why."""
    details_url = mailer.link("transfers.detail", request_id=request.id)
    subject = _l("Our support has acted on the transfer of %(domain)s", domain=request.domain_names)
    subject_party = db.session.get(Account, party.account_id)
    for each in request.parties:
        mailer.queue_to_account(
            "staff_notice",
            subject,
            db.session.get(Account, each.account_id),
            request=request,
            action=action,
            party_account=subject_party,
            reason=reason,
            reference=reference,
            details_url=details_url,
        )


# ---------------------------------------------------------------- due work (the worker)
def expire_due(now=None):
    """Requests still awaiting confirmation past ``expires_at`` expire. Returns how many."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(TransferRequest.id).where(
            TransferRequest.state == "awaiting", TransferRequest.expires_at <= now
        )
    ).all()
    db.session.rollback()
    count = 0
    for request_id in ids:
        request = _lock(request_id, ("awaiting",))
        if request is None or request.expires_at > now:
            db.session.rollback()
            continue
        _end(request, "expired")
        db.session.commit()
        count += 1
    return count


def remind_due(now=None):
    """Parties that have not answered get one reminder REMINDER_DAYS_BEFORE days before expiry."""
    now = now or utcnow()
    horizon = now + timedelta(days=site_settings.get("REMINDER_DAYS_BEFORE"))
    query = (
        select(TransferParty.request_id, TransferParty.account_id)
        .join(TransferParty.request)
        .where(
            TransferRequest.state == "awaiting",
            TransferRequest.expires_at > now,
            TransferRequest.expires_at <= horizon,
            TransferParty.must_confirm.is_(True),
            TransferParty.confirmed_at.is_(None),
            TransferParty.declined_at.is_(None),
            TransferParty.reminded_at.is_(None),
        )
        .order_by(TransferParty.id)
    )
    due = db.session.execute(query).all()
    db.session.rollback()
    count = 0
    for request_id, account_id in due:
        request = _lock(request_id, ("awaiting",))
        party = request.party_for(account_id) if request else None
        if party is None or party.has_acted or party.reminded_at is not None:
            db.session.rollback()
            continue
        queue_confirmation(request, party, template="reminder")
        party.reminded_at = now
        audit.record("transfer_reminded", "transfer", request.id, party=account_id)
        db.session.commit()
        count += 1
    return count


def executions_due(now=None):
    """True when a confirmed request waits for execution (one indexed read)."""
    query = (
        select(TransferRequest.id)
        .where(
            TransferRequest.state == "confirmed",
            or_(
                TransferRequest.execute_on.is_(None),
                TransferRequest.execute_on <= provider_today(now),
            ),
        )
        .limit(1)
    )
    found = db.session.scalar(query) is not None
    db.session.commit()  # read in a transaction of its own: the next one sees new confirmations
    return found


def execute_due(limit=20, now=None):
    """Execute up to ``limit`` confirmed requests whose day has come, in batches (see
    ``executor``). Returns the number executed (requests that fail their checks are not
    counted)."""
    from . import executor

    return executor.execute_due(limit, now)


def _hand_over_payments(request, services, now):
    """Cancel each handed-over payment request and issue it anew to the new payer, due no
    earlier than before; returns [[old id, new id], ...]."""
    ids = set(request.handover_payments or ())
    today = provider_today(now)
    handed = []
    for item in request.items:
        for pr in services[item.service_id].payment_requests:
            if pr.external_id not in ids or not pr.is_open:
                continue
            pr.cancelled_on = today
            new = PaymentRequest(
                external_id=f"{pr.external_id}-T{request.id}"[:64],
                service_id=pr.service_id,
                payer_id=item.new_payer_id,
                issued_on=today,
                due_on=max(pr.due_on, today),
                amount=pr.amount,
                currency=pr.currency,
            )
            db.session.add(new)
            handed.append([pr.external_id, new.external_id])
            audit.record(
                "payment_request_handed_over",
                "payment_request",
                pr.external_id,
                request=request.id,
                replaced_by=new.external_id,
                new_payer=item.new_payer_id,
            )
    return handed


def execution_problems(request, services, locked=None):
    """Every rule checked again, plus: owner and payer are still those of the request."""
    refused = check_services(
        list(services.values()),
        direction=request.direction,
        initiator_id=request.initiator_id,
        other_id=_other_id(request),
        exclude_request_id=request.id,
        creating=False,
        handed_over=request.handover_payments or (),
        change=request.change,
        locked=locked,
    )
    problems = []
    for item in request.items:
        service = services[item.service_id]
        # "not the owner" and "owner changed" are the same news to the customer.
        renamed = {"not_owner": "changed", "unpaid_handover": "unpaid"}
        codes = [(renamed.get(r.code, r.code), r.payment_request) for r in refused.get(service, [])]
        if (service.owner_id, service.payer_id) != (item.old_owner_id, item.old_payer_id):
            codes.append(("changed", None))
        for code, pr in dict.fromkeys(codes):
            problems.append(_problem(code, service, pr))
    return problems


def _other_id(request):
    return request.to_account_id if request.direction == "push" else request.from_account_id


def _problem(code, service, pr=None):
    problem = {
        "code": code,
        "kind": service.kind,
        "service": service.external_id,
        "domain": service.domain,
    }
    if pr is not None:
        problem.update(amount=str(pr.amount), currency=pr.currency, due=pr.due_on.isoformat())
    return problem


def failure_texts(request):
    """The stored failure reasons, translated into the reader's language."""
    if not request.failure_reason:
        return []
    try:
        problems = json.loads(request.failure_reason)["reasons"]
    except (ValueError, KeyError, TypeError):
        return [request.failure_reason]  # free text written by an older version or by staff
    return [_failure_text(p) for p in problems]


def _failure_text(problem):
    where = ", ".join(v for v in (problem.get("domain"), problem.get("service")) if v)
    service = f"{kind_label(problem.get('kind'))} ({where})"
    code = problem.get("code")
    if code == "unpaid":
        return _(
            "%(service)s: a payment request of %(amount)s, due on %(due)s, was issued and is"
            " not paid. Moving the service now would shorten the time to pay and endanger its"
            " renewal. Please pay it first, then ask for the transfer again.",
            service=service,
            amount=fmt_money(Decimal(problem["amount"]), problem["currency"]),
            due=fmt_date(date.fromisoformat(problem["due"])),
        )
    if code == "expired":
        return _(
            "%(service)s has expired or is being terminated. Its owner must renew it first.",
            service=service,
        )
    if code == "locked":
        return _("%(service)s is part of another open transfer request.", service=service)
    if code in ("changed", "not_owner"):
        return _(
            "%(service)s no longer has the owner or payer it had when the transfer was requested.",
            service=service,
        )
    return _("%(service)s can no longer be transferred.", service=service)


def fail_for_outside_change(service_ids):
    """Fail the open requests holding these services: their owner or payer was changed from
    outside (import-data or the API with force). Caller commits. Returns the request ids."""
    query = (
        select(TransferItem.request_id)
        .where(TransferItem.active == true(), TransferItem.service_id.in_(list(service_ids)))
        .distinct()
    )
    failed = []
    for request_id in sorted(db.session.scalars(query)):
        request = _lock(request_id)
        if request is None:
            continue
        problems = [
            _problem("changed", item.service)
            for item in request.items
            if item.service_id in set(service_ids)
        ]
        request.failure_reason = json.dumps({"reasons": problems})
        _end(request, "failed", reasons=["changed"], source="outside change")
        failed.append(request.id)
    return failed


# ---------------------------------------------------------------- end of a request
def _end(request, state, actor=None, **details):
    """Any end state: release the services' lock, record it, tell everyone involved."""
    now = utcnow()
    request.state = state
    request.ended_at = now
    for item in request.items:
        item.active = False
    audit.record(
        f"transfer_{state}", "transfer", request.id, actor=actor, domains=request.domains, **details
    )
    transfer_record.freeze(request)
    queue_end_mails(request, staff_reason=details.get("staff_reason"))


def _end_subject(request):
    domain = request.domain_names
    return {
        "executed": _l("The transfer of %(domain)s has been executed", domain=domain),
        "declined": _l("The transfer of %(domain)s has been declined", domain=domain),
        "cancelled": _l("The transfer of %(domain)s has been cancelled", domain=domain),
        "expired": _l("The transfer of %(domain)s has expired", domain=domain),
        "failed": _l("The transfer of %(domain)s could not be executed", domain=domain),
    }[request.state]


def queue_end_mails(request, staff_reason=None):
    """Tell every party (confirming or only notified) and the extra address how it ended.

    ``staff_reason``: the provider's support ended it, and says why.
    """
    for mail in end_mails(request, staff_reason):
        mailer.queue(**mail)


def end_mails(request, staff_reason=None):
    """The mails of ``queue_end_mails``, as ``mailer.queue``'s arguments (the executor writes
    a batch's with ``mailer.queue_batch``)."""
    mail = {"template": "request_ended", "subject": _end_subject(request), "request": request}
    details_url = mailer.link("transfers.detail", request_id=request.id)
    mails = []
    for party in request.parties:
        account = db.session.get(Account, party.account_id)
        to = {"recipient": account.email, "account": account, "details_url": details_url}
        mails.append({**mail, **to, "staff_reason": staff_reason})
    if request.notify_email:
        to = {"recipient": request.notify_email, "language": request.notify_language}
        mails.append({**mail, **to, "details_url": None, "staff_reason": staff_reason})
    return mails
