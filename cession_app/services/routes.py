"""Views: my services, terminate, change parameters."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Service
from . import bp, holder, listing, operations
from .forms import ParametersForm, TerminateForm


def _service_for(external_id, manage=False):
    """The service, if the account owns or pays it (404 otherwise); 403 if it must manage."""
    service = db.session.scalar(select(Service).filter_by(external_id=external_id))
    if service is None or not operations.roles_of(current_user.id, service):
        abort(404)
    if manage and not operations.may_manage(current_user.id, service):
        abort(403)
    return service


@bp.route("/")
@login_required
def index():
    """My services, grouped by business case, with my role in each."""
    return render_template("services/index.html", cases=listing.my_services(current_user.id))


@bp.route("/<external_id>", methods=["GET", "POST"])
@login_required
def detail(external_id):
    """A service's page; its owner may change parameters here."""
    service = _service_for(external_id)
    form = ParametersForm(obj=service)
    if form.validate_on_submit():
        if not operations.may_manage(current_user.id, service):
            abort(403)
        operations.set_auto_renew(service, form.auto_renew.data, current_user)
        flash(_("The service %(name)s has been updated.", name=service.external_id), "success")
        return redirect(url_for("services.detail", external_id=service.external_id))
    return render_template(
        "services/detail.html",
        service=service,
        form=form,
        roles=operations.roles_of(current_user.id, service),
        can_manage=operations.may_manage(current_user.id, service),
        open_request=operations.open_requests([service.id]).get(service.id),
        open_prs=operations.open_payment_requests(service),
        holder_change=holder.holder_change(service.domain) if service.kind == "domain" else None,
    )


@bp.route("/<external_id>/terminate", methods=["GET", "POST"])
@login_required
def terminate(external_id):
    """Terminate a service: a confirmation page (GET), then the POST acts; owners only."""
    service = _service_for(external_id, manage=True)
    form = TerminateForm()
    if request.method == "GET":
        open_request = operations.open_requests([service.id]).get(service.id)
        reasons = operations.termination_reasons(service, open_request=open_request)
        return render_template(
            "services/terminate.html",
            service=service,
            form=form,
            reasons=reasons,
            open_request=open_request,
        )
    if form.validate_on_submit():
        try:
            operations.terminate(service, current_user)
        except operations.TerminationRefused as exc:
            for reason in exc.reasons:
                flash(str(reason), "error")
            return redirect(url_for("services.detail", external_id=service.external_id))
        flash(_("The termination of %(name)s has started.", name=service.external_id), "success")
    return redirect(url_for("services.index"))
