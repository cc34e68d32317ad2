"""Transfer operations: create, confirm, decline, cancel, resend, execute, expire, remind.

Every operation commits its change together with its audit events and outbox mails.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit, mailer, tokens
from ..extensions import db
from ..models import Account, Service, TransferItem, TransferParty, TransferRequest
from ..models.base import utcnow
from . import rules

CONFIRM_PURPOSE = "transfer-confirm"


class TransferRefused(Exception):
    """The request cannot be made or executed; ``reasons`` maps a service (or None) to reasons."""

    def __init__(self, reasons):
        super().__init__("transfer refused")
        self.reasons = reasons


def locked_service_ids(service_ids, exclude_request_id=None):
    """The ids among ``service_ids`` that are already in an open request."""
    query = select(TransferItem.service_id).where(
        TransferItem.active.is_(True), TransferItem.service_id.in_(list(service_ids))
    )
    if exclude_request_id is not None:
        query = query.where(TransferItem.request_id != exclude_request_id)
    return set(db.session.scalars(query))


def case_services(domain, owner_id):
    """The services of a business case owned by ``owner_id``, with their payment requests."""
    query = (
        select(Service)
        .where(Service.domain == domain, Service.owner_id == owner_id)
        .options(selectinload(Service.payment_requests))
        .order_by(Service.kind, Service.id)
    )
    return db.session.scalars(query).all()


def check_services(services, *, direction, initiator_id, other_id, exclude_request_id=None):
    """All rules over the chosen services: {service: [Reason]} for those that cannot move."""
    locked = locked_service_ids([s.id for s in services], exclude_request_id)
    found = {}
    for service in services:
        reasons = rules.ownership_reasons(
            service, direction=direction, initiator_id=initiator_id, other_id=other_id
        ) + rules.service_reasons(service, locked=service.id in locked)
        if reasons:
            found[service] = reasons
    return found


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
):
    """Create a transfer request and queue its confirmation mails, in one transaction.

    Raises TransferRefused with the reasons when a rule forbids it. A repeated
    ``submit_key`` returns the request already created.
    """
    existing = find_request_by_submit_key(submit_key)
    if existing is not None:
        return existing
    problems = rules.counterparty_reasons(initiator, other)
    if problems:
        raise TransferRefused({None: problems})
    owner_id = initiator.id if direction == "push" else other.id
    services = [s for s in case_services(domain, owner_id) if s.id in set(service_ids)]
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
    refused = check_services(
        services, direction=direction, initiator_id=initiator.id, other_id=other.id
    )
    if refused:
        raise TransferRefused(refused)
    request = _build_request(
        initiator, direction, domain, other, services, change, notify_email, submit_key
    )
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
    )
    queue_creation_mails(request)
    db.session.commit()
    return request


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
        expires_at=now + timedelta(days=current_app.config["TRANSFER_EXPIRY_DAYS"]),
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


def queue_confirmation(request, party, template="confirm_request"):
    """Queue the mail with the confirmation link to one party."""
    subjects = {
        "confirm_request": _l(
            "Please confirm the transfer of services of %(domain)s", domain=request.domain
        ),
        "reminder": _l(
            "Reminder: the transfer of %(domain)s awaits your confirmation", domain=request.domain
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
        details_url=mailer.link("transfers.detail", request_id=request.id),
    )
    party.link_sent_at = utcnow()


def queue_creation_mails(request):
    """Links to the confirming parties; a notice to the others and to the extra address."""
    for party in request.parties:
        if party.must_confirm:
            queue_confirmation(request, party)
        else:
            account = db.session.get(Account, party.account_id)
            mailer.queue_to_account(
                "request_notice",
                _l("Services of %(domain)s are being transferred", domain=request.domain),
                account,
                request=request,
                details_url=mailer.link("transfers.detail", request_id=request.id),
            )
    if request.notify_email:
        mailer.queue(
            "request_notice",
            _l("Services of %(domain)s are being transferred", domain=request.domain),
            request.notify_email,
            language=request.notify_language,
            request=request,
            details_url=None,
        )
