"""Billing operations: the payer's documents, marking payments, re-issued tax documents.

Every change commits together with its audit event (and its outbox mail).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from .. import audit, blocking, mailer, paging
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Account, PaymentRequest, Service, TaxDocumentRequest, TransferItem
from ..models.base import utcnow
from . import rules


class BillingRefused(Exception):
    """An operation was refused; ``reasons`` are translated texts."""

    def __init__(self, *reasons):
        super().__init__("billing operation refused")
        self.reasons = list(reasons)


def today():
    """The provider's calendar date (billing closes follow its time zone)."""
    return datetime.now(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()


def _paid_by(account_id):
    # Documents made out to the account; older rows without a payer follow the service.
    return or_(
        PaymentRequest.payer_id == account_id,
        and_(PaymentRequest.payer_id.is_(None), Service.payer_id == account_id),
    )


def _with_service(query):
    return query.join(PaymentRequest.service).options(
        contains_eager(PaymentRequest.service).joinedload(Service.owner)
    )


# ---------------------------------------------------------------- the payer's pages
def unpaid_for_payer(account_id):
    """The account's unpaid payment requests, the earliest due first."""
    query = _with_service(select(PaymentRequest)).where(
        _paid_by(account_id), PaymentRequest.open_clause()
    )
    return db.session.scalars(query.order_by(PaymentRequest.due_on, PaymentRequest.id)).all()


def paid_for_payer(account_id, page, per_page):
    """One page of the account's paid (and handed-over) payment requests, the latest first."""
    query = _with_service(select(PaymentRequest)).where(
        _paid_by(account_id),
        or_(PaymentRequest.paid_on.is_not(None), PaymentRequest.cancelled_on.is_not(None)),
    )
    settled = func.coalesce(PaymentRequest.paid_on, PaymentRequest.cancelled_on)
    query = query.order_by(settled.desc(), PaymentRequest.id.desc())
    return paging.paginate(query, page, per_page)


def tax_documents_of(account_id):
    """The account's requests for re-issued tax documents, the newest first."""
    query = (
        select(TaxDocumentRequest)
        .where(TaxDocumentRequest.requester_id == account_id)
        .options(joinedload(TaxDocumentRequest.payment_request).joinedload(PaymentRequest.service))
        .order_by(TaxDocumentRequest.created_at.desc(), TaxDocumentRequest.id.desc())
    )
    return db.session.scalars(query).all()


def find_payment_request(external_id):
    """The payment request with this id (with its service, owner and payer), or None."""
    query = (
        select(PaymentRequest)
        .filter_by(external_id=external_id)
        .options(
            joinedload(PaymentRequest.service).joinedload(Service.owner),
            joinedload(PaymentRequest.service).joinedload(Service.payer),
            joinedload(PaymentRequest.payer),
        )
    )
    return db.session.scalar(query)


def document_payer(payment_request):
    """The account the document is made out to."""
    return payment_request.payer or payment_request.service.payer


def may_see_document(account, payment_request):
    """Only the payer the document is made out to, and staff, may see it."""
    return account.is_staff or document_payer(payment_request).id == account.id


# ---------------------------------------------------------------- marking payments
def mark_paid(payment_request, on, actor=None, source="staff page"):
    """Record that a payment request was paid on ``on``; refused when already paid."""
    if on > today():
        raise BillingRefused(_l("The payment date cannot be in the future."))
    service = payment_request.service
    before = {service.external_id: blocking.blocks_of(service)}
    # A conditional update: of two staff marking at once, only one wins.
    result = db.session.execute(
        update(PaymentRequest)
        .where(PaymentRequest.id == payment_request.id, PaymentRequest.open_clause())
        .values(paid_on=on)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise BillingRefused(
            _l("The payment request %(id)s is already paid.", id=payment_request.external_id)
        )
    audit.record(
        "payment_marked_paid",
        "payment_request",
        payment_request.external_id,
        actor=actor,
        paid_on=on.isoformat(),
        source=source,
    )
    after = {service.external_id: blocking.blocks_of(service, without=(payment_request,))}
    blocking.record_changes(before, after)
    db.session.commit()
    db.session.refresh(payment_request)
    return payment_request


def unpaid_for_staff(search, page, per_page):
    """Unpaid payment requests, searchable by id (of the request or service) or domain."""
    query = _with_service(select(PaymentRequest)).where(PaymentRequest.open_clause())
    search = (search or "").strip().lower()
    if search:
        query = query.where(
            or_(
                func.lower(PaymentRequest.external_id).contains(search, autoescape=True),
                func.lower(Service.external_id).contains(search, autoescape=True),
                func.lower(Service.domain).contains(search, autoescape=True),
            )
        )
    query = query.options(selectinload(PaymentRequest.payer)).order_by(
        PaymentRequest.due_on, PaymentRequest.id
    )
    return paging.paginate(query, page, per_page)


# ---------------------------------------------------------------- re-issued tax documents
def moved_payment_requests(transfer, account_id, today_):
    """One query: the paid payment requests of the services ``transfer`` gave the account,
    paid around the transfer, each with the account's earlier request for it (or None)."""
    start, end = rules.payment_window(transfer, today_)
    moved = select(TransferItem.service_id).where(
        TransferItem.request_id == transfer.id,
        TransferItem.new_owner_id == account_id,
        TransferItem.old_owner_id != account_id,
    )
    query = (
        select(PaymentRequest, TaxDocumentRequest)
        .join(PaymentRequest.service)
        .outerjoin(
            TaxDocumentRequest,
            and_(
                TaxDocumentRequest.payment_request_id == PaymentRequest.id,
                TaxDocumentRequest.requester_id == account_id,
            ),
        )
        .where(
            PaymentRequest.service_id.in_(moved),
            PaymentRequest.paid_on.between(start, end),
        )
        .options(contains_eager(PaymentRequest.service))
        .order_by(PaymentRequest.paid_on, PaymentRequest.id)
    )
    return db.session.execute(query).all()


def tax_document_offer(transfer, account, today_=None):
    """What the new owner may ask for on an executed request's page, or None for others.

    A list of (payment_request, earlier_request_or_None, reasons).
    """
    if transfer is None or not getattr(account, "is_authenticated", False):
        return None
    if transfer.state != "executed" or not any(
        i.new_owner_id == account.id and i.old_owner_id != account.id for i in transfer.items
    ):
        return None
    today_ = today_ or today()
    close_day = current_app.config["BILLING_CLOSE_DAY"]
    offer = []
    for pr, earlier in moved_payment_requests(transfer, account.id, today_):
        reasons = []
        if earlier is None:
            reasons = rules.tax_document_reasons(
                transfer, pr, account.id, today=today_, close_day=close_day
            )
        offer.append((pr, earlier, reasons))
    return offer


def request_tax_document(transfer, payment_request, requester, today_=None):
    """Ask for a new tax document made out to the requester; raises BillingRefused."""
    today_ = today_ or today()
    already = db.session.scalar(
        select(
            exists().where(
                TaxDocumentRequest.payment_request_id == payment_request.id,
                TaxDocumentRequest.requester_id == requester.id,
            )
        )
    )
    reasons = rules.tax_document_reasons(
        transfer,
        payment_request,
        requester.id,
        today=today_,
        close_day=current_app.config["BILLING_CLOSE_DAY"],
        already_requested=already,
    )
    if reasons:
        raise BillingRefused(*reasons)
    tdr = TaxDocumentRequest(
        transfer_id=transfer.id,
        payment_request_id=payment_request.id,
        requester_id=requester.id,
        billing_details=rules.billing_details_text(requester),
        created_at=utcnow(),
    )
    db.session.add(tdr)
    db.session.flush()
    audit.record(
        "tax_document_requested",
        "tax_document_request",
        tdr.id,
        actor=requester,
        payment_request=payment_request.external_id,
        transfer=transfer.id,
    )
    db.session.commit()
    return tdr


def tax_documents_for_staff(page, per_page):
    """Requests for re-issued tax documents: open ones first, then the newest."""
    query = (
        select(TaxDocumentRequest)
        .options(
            joinedload(TaxDocumentRequest.requester),
            joinedload(TaxDocumentRequest.payment_request).joinedload(PaymentRequest.service),
        )
        .order_by(
            TaxDocumentRequest.done_at.is_not(None),
            TaxDocumentRequest.created_at.desc(),
            TaxDocumentRequest.id.desc(),
        )
    )
    return paging.paginate(query, page, per_page)


def mark_tax_document_done(tdr, actor=None):
    """Staff issued the new document: record it and tell the requester by mail."""
    result = db.session.execute(
        update(TaxDocumentRequest)
        .where(TaxDocumentRequest.id == tdr.id, TaxDocumentRequest.done_at.is_(None))
        .values(done_at=utcnow())
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise BillingRefused(_l("This tax-document request has already been marked done."))
    audit.record("tax_document_done", "tax_document_request", tdr.id, actor=actor)
    db.session.refresh(tdr)
    requester = db.session.get(Account, tdr.requester_id)
    mailer.queue_to_account(
        "tax_document_done",
        _l(
            "Your new tax document for payment %(id)s has been issued",
            id=tdr.payment_request.external_id,
        ),
        requester,
        tdr=tdr,
        payment_request=tdr.payment_request,
        billing_url=mailer.link("billing.index"),
    )
    db.session.commit()
    return tdr
