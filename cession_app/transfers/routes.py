"""Views of the request pages: details, confirmation links, answer, cancel, resend."""

from contextlib import nullcontext

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..errors import render_error
from ..extensions import limiter
from ..i18n import fmt_date, parsed_locale, select_timezone
from ..security import no_store
from . import bp, labels, operations, reading
from . import record as transfer_record
from .forms import CancelForm, ResendForm, RespondForm


@bp.record_once
def _register_globals(state):
    state.app.jinja_env.globals.update(
        labels.GLOBALS,
        transfer_failure_texts=operations.failure_texts,
        transfer_password_needed=operations.password_needed,
        transfer_second_factor=operations.second_factor_accepted,
        transfer_must_take_over=operations.must_take_over,
        transfer_handed_over=operations.handed_over_payments,
    )


def _visible_request(request_id, loader=operations.load_request):
    """The request with its details, if the current account may see it (404 otherwise).

    ``loader``: ``reading.read_request`` for a page that only shows it.
    """
    transfer = loader(request_id)
    # The account itself, not the proxy: can_view reads it three times.
    if transfer is None or not operations.can_view(transfer, current_user._get_current_object()):
        abort(404)
    return transfer


def _detail(transfer):
    return redirect(url_for("transfers.detail", request_id=transfer.id))


@bp.route("/requests/<int:request_id>")
@no_store
@login_required
def detail(request_id):
    """A request's details (parties and staff only)."""
    transfer = _visible_request(request_id, reading.read_request)
    me = transfer.party_for(current_user.id)
    # ResendForm first, as before: it is always shown (its CSRF token is the session's).
    resend_form = ResendForm()
    # The answer form only where the reader is still to answer: the page shows it then.
    answering = me and me.must_confirm and not me.has_acted and transfer.state == "awaiting"
    return render_template(
        "transfers/detail.html",
        transfer=transfer,
        history=audit.events_of("transfer", transfer.id, reading.accounts_of(transfer)),
        me=me,
        respond_form=RespondForm() if answering else None,
        resend_form=resend_form,
    )


def _answer(transfer, party, form):
    """Confirm or decline from a submitted RespondForm; flashes the outcome. True if done."""
    try:
        if form.confirm.data:
            transfer = operations.confirm(
                transfer,
                party,
                password=form.password.data,
                take_over_payments=form.take_over_payments.data,
            )
            flash(_("Thank you, you have confirmed the transfer."), "success")
            if transfer.state == "confirmed" and transfer.execute_on:
                flash(
                    _(
                        "Everyone has confirmed: the transfer takes effect on %(date)s.",
                        date=fmt_date(transfer.execute_on),
                    ),
                    "info",
                )
            elif transfer.state == "confirmed":
                flash(_("Everyone has confirmed: the transfer will be executed shortly."), "info")
            elif transfer.state == "approval":
                flash(_("Everyone has confirmed. The provider approves the transfer next."), "info")
        elif form.decline.data:
            operations.decline(transfer, party)
            flash(_("You have declined the transfer. Everyone involved will be told."), "info")
        else:
            flash(_("Please choose whether to confirm or decline the transfer."), "error")
            return False
    except operations.ActionRefused as exc:
        flash(str(exc.message), "error")
        return False
    return True


@bp.route("/requests/<int:request_id>/record.pdf")
@no_store
@login_required
def record_pdf(request_id):
    """The transfer record of an ended request, as a PDF in the reader's language."""
    transfer = _visible_request(request_id)
    if transfer.is_open:
        abort(404)
    record = transfer_record.record_of(transfer) or transfer_record.freeze(transfer)
    data = transfer_record.pdf_copy(
        record,
        current_user,
        str(get_locale()),
        select_timezone(),
        staff=transfer.party_for(current_user.id) is None,
    )
    response = make_response(data)
    response.mimetype = "application/pdf"
    filename = f"transfer-record-{transfer.id}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/requests/<int:request_id>/answer", methods=["POST"])
@login_required
def answer(request_id):
    """A logged-in confirming party confirms or declines on the request's page."""
    transfer = _visible_request(request_id)
    party = transfer.party_for(current_user.id)
    if party is None or not party.must_confirm:
        abort(403)
    form = RespondForm()
    if form.validate_on_submit():
        _answer(transfer, party, form)
    return _detail(transfer)


@bp.route("/requests/<int:request_id>/decline")
@no_store
@login_required
def decline(request_id):
    """The confirmation step before a logged-in party declines (the POST goes to answer)."""
    transfer = _visible_request(request_id)
    party = transfer.party_for(current_user.id)
    if party is None or not party.must_confirm:
        abort(403)
    if party.has_acted or transfer.state != "awaiting":
        return _detail(transfer)
    return render_template(
        "transfers/decline.html",
        transfer=transfer,
        form=RespondForm(),
        action=url_for("transfers.answer", request_id=transfer.id),
        back=url_for("transfers.detail", request_id=transfer.id),
    )


@bp.route("/requests/<int:request_id>/cancel", methods=["GET", "POST"])
@no_store
@login_required
def cancel(request_id):
    """The initiator cancels the request while it is open: a confirmation page (GET) first."""
    transfer = _visible_request(request_id)
    if current_user.id != transfer.initiator_id:
        abort(403)
    if request.method == "GET":
        if not transfer.is_open:
            return _detail(transfer)
        return render_template("transfers/cancel.html", transfer=transfer, form=CancelForm())
    if CancelForm().validate_on_submit():
        try:
            operations.cancel(transfer, current_user)
            flash(_("The request has been cancelled. Everyone involved will be told."), "info")
        except operations.ActionRefused as exc:
            flash(str(exc.message), "error")
    return _detail(transfer)


@bp.errorhandler(429)
def _too_many(error):
    """A limit's own page (its ``on_breach`` response), else the generic one."""
    return getattr(error, "response", None) or render_error(429)


def _resend_key():
    return f"transfer-resend:{request.view_args.get('request_id')}"


def _resend_refused(limit):
    message = _(
        "The confirmation link of this request has been sent again too many times."
        " Please wait an hour before asking again."
    )
    return make_response(render_error(429, message))


@bp.route("/requests/<int:request_id>/parties/<int:account_id>/resend", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RESEND_RATE_LIMIT"],
    key_func=_resend_key,
    deduct_when=lambda response: g.get("link_resent", False),
    on_breach=_resend_refused,
)
@login_required
def resend(request_id, account_id):
    """Send a party that has not answered its confirmation link again (rate limited)."""
    transfer = _visible_request(request_id)
    party = transfer.party_for(account_id)
    if party is None:
        abort(404)
    if ResendForm().validate_on_submit():
        try:
            operations.resend(transfer, party, actor=current_user.id)
        except operations.ActionRefused as exc:
            flash(str(exc.message), "error")
        else:
            g.link_resent = True
            flash(
                _("A new confirmation link has been sent to %(name)s.", name=party.account.name),
                "success",
            )
    return _detail(transfer)


def _link_locale(account):
    """A visitor who chose no language reads the link page in the party's language."""
    if current_user.is_authenticated or session.get("language"):
        return nullcontext()
    return force_locale(parsed_locale(account.language))


@bp.route("/requests/<int:request_id>/respond/<token>", methods=["GET", "POST"])
@no_store
def respond(request_id, token):
    """The page a confirmation link opens: details, Confirm / Decline (only the POST acts)."""
    audit.set_channel("link")
    # Opening the link only shows the request; answering it loads the request to change it.
    loader = reading.read_request if request.method == "GET" else operations.load_request
    try:
        transfer, party = operations.check_link(request_id, token, loader)
    except operations.LinkRefused as exc:
        return render_error(exc.status, exc.message)
    form = RespondForm()
    with _link_locale(party.account):
        if form.validate_on_submit() and _answer(transfer, party, form):
            transfer = operations.load_request(request_id)
            return render_template("transfers/responded.html", transfer=transfer, party=party)
        return render_template("transfers/respond.html", transfer=transfer, party=party, form=form)


@bp.route("/requests/<int:request_id>/respond/<token>/decline")
@no_store
def respond_decline(request_id, token):
    """The confirmation step before declining through a link (the POST goes to respond)."""
    audit.set_channel("link")
    try:
        transfer, party = operations.check_link(request_id, token, reading.read_request)
    except operations.LinkRefused as exc:
        return render_error(exc.status, exc.message)
    action = url_for("transfers.respond", request_id=request_id, token=token)
    with _link_locale(party.account):
        return render_template(
            "transfers/decline.html",
            transfer=transfer,
            party=party,
            form=RespondForm(),
            action=action,
            back=action,
        )
