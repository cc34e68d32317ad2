"""Views of the staff console; every one is for staff only (others get a 404)."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import addresses, audit, mailer, site_settings
from ..billing import operations as billing
from ..extensions import db, login_manager
from ..i18n import _zone
from ..models import PaymentRequest, TaxDocumentRequest
from ..models.outbox import FAILED
from ..paging import page_arg, paginate
from ..transfers import operations as transfers
from . import bp, labels, operations, permissions
from .forms import (
    ApproveForm,
    AuditFilterForm,
    CancelForm,
    ConfirmOnBehalfForm,
    MarkDoneForm,
    MarkPaidForm,
    RejectForm,
    RequeueForm,
    ResendForm,
    ResendMailForm,
    SearchForm,
    SendElsewhereForm,
    SettingsForm,
    UnpaidSearchForm,
)


@bp.record_once
def _register_globals(state):
    state.app.jinja_env.globals.update(
        labels.GLOBALS, invite_available=invite_available, staff_may=_staff_may
    )


def _staff_may(action):
    return permissions.may(current_user, action)


def _require(action):
    """403 unless the staff member's role allows ``action``."""
    if not permissions.may(current_user, action):
        abort(403)


@bp.before_request
def _staff_only():
    """Log-in first; a customer learns nothing (404); staff changes are audited as staff."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(404)
    audit.set_channel("staff")
    return None


@bp.after_request
def _not_cached(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _search_box():
    """The search box on every staff page (filled in on the results page)."""
    on_results = request.endpoint == "staff.search"
    return {"staff_search": SearchForm(request.args if on_results else None)}


def _flash_errors(form):
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")


def _per_page():
    return current_app.config["PAGE_SIZE"]


# ---------------------------------------------------------------- dashboard and search
@bp.route("/")
def index():
    """Unpaid payment requests to mark paid, and tax-document requests."""
    search = UnpaidSearchForm(request.args)
    return render_template(
        "staff/index.html",
        search=search,
        unpaid=billing.unpaid_for_staff(search.q.data, page_arg(), _per_page()),
        tax_documents=billing.tax_documents_for_staff(page_arg("tpage"), _per_page()),
        paid_form=MarkPaidForm(formdata=None),
        failed_mails=mailer.status_counts()[FAILED],
    )


@bp.route("/search")
def search():
    """One box: customers, requests, services and payment requests."""
    form = SearchForm(request.args)
    found = operations.search(form.q.data) if form.validate() and form.q.data else None
    return render_template("staff/search.html", form=form, found=found)


# ---------------------------------------------------------------- customers
@bp.route("/customers/<code>")
def customer(code):
    """A customer's data, services, requests, payments, mails and events."""
    account = operations.find_customer(code)
    if account is None:
        abort(404)
    return render_template(
        "staff/customer.html",
        account=account,
        services=operations.customer_services(account, page_arg(), _per_page()),
        requests=operations.customer_requests(account),
        unpaid=billing.unpaid_for_payer(account.id),
        paid=billing.paid_for_payer(account.id, page_arg("ppage"), _per_page()),
        mails=operations.customer_mails(account),
        events=operations.customer_events(account),
        sessions=operations.customer_sessions(account),
        invite_form=RequeueForm() if invite_available() else None,
    )


def invite_available():
    """True once accounts.operations.invite exists (it comes with the accounts feature)."""
    return _invite() is not None


def _invite():
    try:
        from ..accounts import operations as accounts_operations
    except ImportError:
        return None
    return getattr(accounts_operations, "invite", None)


@bp.route("/customers/<code>/invite", methods=["POST"])
def invite(code):
    """Send the customer an invitation to set a password."""
    account = operations.find_customer(code)
    invite_function = _invite()
    if account is None or invite_function is None:
        abort(404)
    if RequeueForm().validate_on_submit():
        if invite_function(account, actor=current_user):
            flash(_("An invitation to set a password has been sent."), "success")
        else:
            flash(_("No invitation was sent."), "error")
    return redirect(url_for("staff.customer", code=account.code))


@bp.route("/customers/<code>/sign-out", methods=["POST"])
def sign_out(code):
    """End every session of the customer (e.g. after a stolen password)."""
    account = operations.find_customer(code)
    if account is None:
        abort(404)
    if RequeueForm().validate_on_submit():
        ended = operations.sign_out_everywhere(account, current_user)
        flash(ngettext("%(num)d session ended.", "%(num)d sessions ended.", ended), "success")
    return redirect(url_for("staff.customer", code=account.code, _anchor="sessions"))


# ---------------------------------------------------------------- requests
def _request(request_id):
    transfer = transfers.load_request(request_id)
    if transfer is None:
        abort(404)
    return transfer


def _party(transfer, account_id):
    party = transfer.party_for(account_id)
    if party is None:
        abort(404)
    return party


def _to_request(transfer):
    return redirect(url_for("staff.transfer", request_id=transfer.id))


@bp.route("/requests/<int:request_id>")
def transfer(request_id):
    """A request as its parties see it, with its timeline, mails and the staff actions."""
    transfer = _request(request_id)
    events = operations.request_timeline(transfer.id)
    return render_template(
        "staff/request.html",
        transfer=transfer,
        events=events,
        named=operations.accounts_by_id(e.details.get("party") for e in events if e.details),
        mails=operations.request_mails(transfer),
        cancel_form=CancelForm(formdata=None),
        resend_form=ResendForm(formdata=None),
        elsewhere_form=SendElsewhereForm(formdata=None),
        behalf_form=ConfirmOnBehalfForm(formdata=None),
        failure_label=mailer.failure_label,
    )


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
def cancel(request_id):
    """Cancel an open request, with a reason every party is told."""
    _require("cancel")
    transfer = _request(request_id)
    form = CancelForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _to_request(transfer)
    try:
        transfers.staff_cancel(transfer, current_user, form.reason.data)
    except transfers.ActionRefused as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The request has been cancelled. Everyone involved will be told."), "info")
    return _to_request(transfer)


@bp.route("/requests/<int:request_id>/parties/<int:account_id>/resend", methods=["POST"])
def resend(request_id, account_id):
    """Send a party its link again, to the account's own address."""
    transfer = _request(request_id)
    party = _party(transfer, account_id)
    if ResendForm().validate_on_submit():
        try:
            transfers.resend(transfer, party, actor=current_user.id)
        except transfers.ActionRefused as exc:
            flash(str(exc.message), "error")
        else:
            flash(
                _("A new confirmation link has been sent to %(name)s.", name=party.account.name),
                "success",
            )
    return _to_request(transfer)


@bp.route("/requests/<int:request_id>/parties/<int:account_id>/elsewhere", methods=["POST"])
def send_elsewhere(request_id, account_id):
    """Send a party's link once to another address; the account keeps its own."""
    _require("send_elsewhere")
    transfer = _request(request_id)
    party = _party(transfer, account_id)
    form = SendElsewhereForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _to_request(transfer)
    try:
        address = transfers.send_link_elsewhere(
            transfer, party, form.address.data, current_user, form.reason.data
        )
    except transfers.ActionRefused as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The confirmation link has been sent to %(address)s.", address=address), "success")
    return _to_request(transfer)


@bp.route("/requests/<int:request_id>/parties/<int:account_id>/confirm", methods=["POST"])
def confirm_on_behalf(request_id, account_id):
    """Confirm for a party whose identity staff checked; every party is told."""
    _require("confirm_on_behalf")
    transfer = _request(request_id)
    party = _party(transfer, account_id)
    form = ConfirmOnBehalfForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _to_request(transfer)
    try:
        transfer = transfers.confirm_on_behalf(
            transfer,
            party,
            current_user,
            form.reason.data,
            form.reference.data,
            take_over_payments=form.take_over_payments.data,
        )
    except transfers.ActionRefused as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Confirmed on behalf of %(name)s.", name=party.account.name), "success")
        if transfer.state == "confirmed":
            flash(_("Everyone has confirmed: the transfer will be executed shortly."), "info")
    return _to_request(transfer)


# ---------------------------------------------------------------- approvals
@bp.route("/approvals")
def approvals():
    """Requests everyone confirmed that wait for a staff member's approval."""
    return render_template(
        "staff/approvals.html",
        requests=operations.awaiting_approval(page_arg(), _per_page()),
        approve_form=ApproveForm(formdata=None),
        reject_form=RejectForm(formdata=None),
        approval_on=site_settings.get("REQUIRE_APPROVAL"),
    )


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
def approve(request_id):
    """Approve a request: the worker executes it."""
    transfer = _request(request_id)
    if ApproveForm().validate_on_submit():
        try:
            transfers.approve(transfer, current_user)
        except transfers.ActionRefused as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Approved: the transfer will be executed shortly."), "success")
    return redirect(url_for("staff.approvals"))


@bp.route("/requests/<int:request_id>/reject", methods=["POST"])
def reject(request_id):
    """Decline a request awaiting approval; the parties are told the reason."""
    transfer = _request(request_id)
    form = RejectForm()
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        try:
            transfers.reject(transfer, current_user, form.reason.data)
        except transfers.ActionRefused as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Declined. Everyone involved will be told the reason."), "info")
    return redirect(url_for("staff.approvals"))


# ---------------------------------------------------------------- settings
@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Admins: request lifetime and reminder, approval, the support contact."""
    _require("settings")
    form = SettingsForm(data=site_settings.current())
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in site_settings.EDITABLE}
        values["SUPPORT_EMAIL"] = values["SUPPORT_EMAIL"] or ""
        changed = site_settings.save(values, current_user)
        db.session.commit()
        if changed:
            flash(_("The settings have been saved."), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("staff.settings"))
    return render_template("staff/settings.html", form=form)


# ---------------------------------------------------------------- audit trail
def _audit_filter(form):
    """The filter the form asks for; None (with the form's errors) when it names nothing."""
    if not form.validate():
        return None
    flt = operations.AuditFilter(action=form.action.data or "")
    flt.since, flt.until = form.since.data, form.until.data
    for name in ("account", "staff"):
        code = (getattr(form, name).data or "").strip().lower()
        if code:
            found = operations.find_customer(code)
            if found is None:
                getattr(form, name).errors.append(_("No customer has this code."))
                return None
            setattr(flt, name, found)
    number = (form.request.data or "").strip()
    if number:
        flt.request_id = operations.request_number(number)
        if flt.request_id is None:
            form.request.errors.append(_("Please enter a request number."))
            return None
    return flt


def _audit_form():
    form = AuditFilterForm(request.args)
    actions = operations.known_actions()
    form.action.choices = [("", _("All"))] + [(a, labels.action_label(a)) for a in actions]
    return form


@bp.route("/audit")
def audit_trail():
    """Every audit event, filtered by customer, request, staff member, kind and dates."""
    form = _audit_form()
    flt = _audit_filter(form) if request.args else operations.AuditFilter()
    events = None
    if flt is not None:
        events = paginate(operations.audit_query(flt, _zone()), page_arg(), _per_page())
    return render_template("staff/audit.html", form=form, events=events)


@bp.route("/audit.csv")
def audit_csv():
    """The filtered audit trail as CSV (spreadsheet formulas neutralised)."""
    form = _audit_form()
    flt = _audit_filter(form)
    if flt is None:
        flt = operations.AuditFilter(request_id=0)  # an invalid filter exports nothing
    rows = operations.audit_csv_rows(operations.audit_query(flt, _zone()))
    response = Response(stream_with_context(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response


# ---------------------------------------------------------------- outbox
@bp.route("/outbox")
def outbox():
    """Outgoing mail that failed for good, with the reason, and what waits for retry."""
    return render_template(
        "staff/outbox.html",
        counts=mailer.status_counts(),
        retrying=mailer.retrying(),
        failed=mailer.failed_page(page_arg(), _per_page()),
        failure_label=mailer.failure_label,
        requeue_form=RequeueForm(formdata=None),
        resend_form=ResendMailForm(formdata=None),
    )


def _message(message_id):
    message = operations.outbox_message(message_id)
    if message is None:
        abort(404)
    return message


@bp.route("/outbox/<int:message_id>/requeue", methods=["POST"])
def requeue(message_id):
    """Try a failed message again."""
    message = _message(message_id)
    if RequeueForm().validate_on_submit():
        if operations.requeue_mail(message, current_user):
            flash(_("The message will be sent again."), "success")
        else:
            flash(_("This message has not failed; nothing was changed."), "error")
    return redirect(url_for("staff.outbox"))


@bp.route("/outbox/<int:message_id>/resend", methods=["POST"])
def resend_mail(message_id):
    """Send a copy of a message to a corrected address."""
    _require("resend_mail_elsewhere")
    message = _message(message_id)
    form = ResendMailForm()
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        try:
            copy = operations.resend_mail(message, form.address.data, current_user)
        except addresses.AddressInvalid as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("A copy will be sent to %(address)s.", address=copy.recipient), "success")
    return redirect(url_for("staff.outbox"))


# ---------------------------------------------------------------- billing (staff side)
@bp.route("/payment-requests/<external_id>/paid", methods=["POST"])
def mark_paid(external_id):
    """Mark a payment request paid (on the given day, today by default)."""
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id=external_id))
    if pr is None:
        abort(404)
    form = MarkPaidForm()
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        try:
            billing.mark_paid(pr, form.paid_on.data or billing.today(), actor=current_user)
        except billing.BillingRefused as refused:
            for reason in refused.reasons:
                flash(str(reason), "error")
        else:
            flash(_("The payment request %(id)s is marked paid.", id=external_id), "success")
    return redirect(url_for("staff.index", q=request.form.get("q") or None))


@bp.route("/tax-documents/<int:tdr_id>/done", methods=["POST"])
def mark_tax_document_done(tdr_id):
    """The new tax document was issued; the requester is told by mail."""
    tdr = db.session.get(TaxDocumentRequest, tdr_id)
    if tdr is None:
        abort(404)
    if MarkDoneForm().validate_on_submit():
        try:
            billing.mark_tax_document_done(tdr, actor=current_user)
        except billing.BillingRefused as refused:
            for reason in refused.reasons:
                flash(str(reason), "error")
        else:
            flash(_("The requester has been told that the tax document is issued."), "success")
    return redirect(url_for("staff.index"))
