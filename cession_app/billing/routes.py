"""Views: the billing page, payment documents, the staff page, tax-document requests."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import mailer
from ..extensions import db
from ..models import PaymentRequest, TaxDocumentRequest, TransferRequest
from ..models.outbox import FAILED
from ..paging import page_arg
from ..security import no_store
from . import bp, operations, payment
from .forms import MarkDoneForm, MarkPaidForm, StaffSearchForm, TaxDocumentForm


def _staff_only():
    if not current_user.is_staff:
        abort(404)


def _flash_refused(refused):
    for reason in refused.reasons:
        flash(str(reason), "error")


@bp.route("/")
@no_store
@login_required
def index():
    """The payment requests and invoices of the services the account pays."""
    per_page = current_app.config["PAGE_SIZE"]
    return render_template(
        "billing/index.html",
        unpaid=operations.unpaid_for_payer(current_user.id),
        paid=operations.paid_for_payer(current_user.id, page_arg(), per_page),
        tax_documents=operations.tax_documents_of(current_user.id),
    )


@bp.route("/documents/<external_id>")
@no_store
@login_required
def document(external_id):
    """A payment document, made out to the payer's billing details (payer and staff only)."""
    pr = operations.find_payment_request(external_id)
    if pr is None or not operations.may_see_document(current_user, pr):
        abort(404)
    qr = payment.payment_qr(pr)
    return render_template(
        "billing/document.html",
        pr=pr,
        payer=operations.document_payer(pr),
        bank=payment.bank_details(),
        reference=payment.reference(pr),
        qr=(qr[0], payment.qr_image(qr[1])) if qr else None,
    )


@bp.route("/staff")
@login_required
def staff():
    """Staff: unpaid payment requests to mark paid, and tax-document requests."""
    _staff_only()
    search = StaffSearchForm(request.args)
    per_page = current_app.config["PAGE_SIZE"]
    return render_template(
        "billing/staff.html",
        search=search,
        unpaid=operations.unpaid_for_staff(search.q.data, page_arg(), per_page),
        tax_documents=operations.tax_documents_for_staff(page_arg("tpage"), per_page),
        paid_form=MarkPaidForm(formdata=None),
        failed_mails=mailer.status_counts()[FAILED],
    )


@bp.route("/staff/outbox")
@login_required
def staff_outbox():
    """Staff: outgoing mail that failed for good, with the reason, and what waits for retry."""
    _staff_only()
    return render_template(
        "billing/staff_outbox.html",
        counts=mailer.status_counts(),
        retrying=mailer.retrying(),
        failed=mailer.failed_page(page_arg(), current_app.config["PAGE_SIZE"]),
        failure_label=mailer.failure_label,
    )


@bp.route("/staff/payment-requests/<external_id>/paid", methods=["POST"])
@login_required
def mark_paid(external_id):
    """Staff: mark a payment request paid (on the given day, today by default)."""
    _staff_only()
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id=external_id))
    if pr is None:
        abort(404)
    form = MarkPaidForm()
    if not form.validate_on_submit():
        for error in form.paid_on.errors:
            flash(str(error), "error")
    else:
        try:
            operations.mark_paid(pr, form.paid_on.data or operations.today(), actor=current_user)
        except operations.BillingRefused as refused:
            _flash_refused(refused)
        else:
            flash(_("The payment request %(id)s is marked paid.", id=external_id), "success")
    return redirect(url_for("billing.staff", q=request.form.get("q") or None))


@bp.route("/staff/tax-documents/<int:tdr_id>/done", methods=["POST"])
@login_required
def mark_tax_document_done(tdr_id):
    """Staff: the new tax document was issued; the requester is told by mail."""
    _staff_only()
    tdr = db.session.get(TaxDocumentRequest, tdr_id)
    if tdr is None:
        abort(404)
    if MarkDoneForm().validate_on_submit():
        try:
            operations.mark_tax_document_done(tdr, actor=current_user)
        except operations.BillingRefused as refused:
            _flash_refused(refused)
        else:
            flash(_("The requester has been told that the tax document is issued."), "success")
    return redirect(url_for("billing.staff"))


@bp.app_template_global()
def tax_document_offer(transfer):
    """For the transfer pages: what the logged-in new owner may ask for (None: nothing)."""
    return operations.tax_document_offer(transfer, current_user)


@bp.route("/transfers/<int:transfer_id>/tax-documents/<external_id>", methods=["POST"])
@login_required
def request_tax_document(transfer_id, external_id):
    """The new owner asks for a new tax document for a payment of the moved services."""
    transfer = db.session.scalar(
        select(TransferRequest)
        .filter_by(id=transfer_id)
        .options(selectinload(TransferRequest.items), selectinload(TransferRequest.parties))
    )
    if transfer is None or (
        transfer.party_for(current_user.id) is None and not current_user.is_staff
    ):
        abort(404)
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id=external_id))
    if pr is None:
        abort(404)
    if TaxDocumentForm().validate_on_submit():
        try:
            operations.request_tax_document(transfer, pr, current_user)
        except operations.BillingRefused as refused:
            _flash_refused(refused)
        else:
            flash(
                _(
                    "Your request for a new tax document for %(id)s has been sent. We will tell"
                    " you by e-mail when it is issued.",
                    id=external_id,
                ),
                "success",
            )
    return redirect(url_for("transfers.detail", request_id=transfer.id))
