"""Views: the billing page, payment documents, tax-document requests (staff: see staff/)."""

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import PaymentRequest, TransferRequest
from ..paging import page_arg
from ..security import no_store
from . import bp, documents, operations, payment
from .forms import TaxDocumentForm


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


def _download(data, mimetype, filename):
    response = make_response(data)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/payment-requests.csv")
@no_store
@login_required
def payment_requests_csv():
    """Every payment request of the account as CSV (ISO dates, plain amounts)."""
    text = documents.csv_text(operations.all_for_payer(current_user.id))
    return _download(text, "text/csv", "payment-requests.csv")


def _visible_document(external_id):
    pr = operations.find_payment_request(external_id)
    if pr is None or not operations.may_see_document(current_user, pr):
        abort(404)
    return pr


@bp.route("/documents/<external_id>.pdf")
@no_store
@login_required
def document_pdf(external_id):
    """The payment document as a PDF, in the reader's language (payer and staff only)."""
    pr = _visible_document(external_id)
    qr = payment.payment_qr(pr)
    data = documents.payment_pdf(
        pr,
        operations.document_payer(pr),
        payment.bank_details(),
        payment.reference(pr),
        qr[1] if qr else None,
    )
    filename = f"payment-request-{pr.external_id}.pdf"
    return _download(data, "application/pdf", filename)


@bp.route("/documents/<external_id>")
@no_store
@login_required
def document(external_id):
    """A payment document, made out to the payer's billing details (payer and staff only)."""
    pr = _visible_document(external_id)
    qr = payment.payment_qr(pr)
    return render_template(
        "billing/document.html",
        pr=pr,
        payer=operations.document_payer(pr),
        bank=payment.bank_details(),
        reference=payment.reference(pr),
        qr=(qr[0], payment.qr_image(qr[1])) if qr else None,
    )


def _staff_only():
    if not current_user.is_staff:
        abort(404)


@bp.route("/staff")
@login_required
def staff():
    """The staff page moved to the staff console."""
    _staff_only()
    return redirect(url_for("staff.index", **request.args), 301)


@bp.route("/staff/outbox")
@login_required
def staff_outbox():
    """The outgoing mail page moved to the staff console."""
    _staff_only()
    return redirect(url_for("staff.outbox", **request.args), 301)


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
