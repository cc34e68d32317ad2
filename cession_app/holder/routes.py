"""The staff's list of holder changes to carry out at the registries."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..models import HolderChange
from ..paging import page_arg
from . import bp, operations, registries
from .forms import DecideForm


def _staff_only():
    if not current_user.is_staff:
        abort(404)


@bp.route("/")
@login_required
def index():
    """Open tasks first; done and refused ones on request."""
    _staff_only()
    state = request.args.get("state", "open")
    state = state if state in ("open", "done", "refused", "all") else "open"
    tasks = operations.tasks_page(None if state == "all" else state, page_arg(), 20)
    return render_template(
        "holder/index.html",
        tasks=tasks,
        state=state,
        form=DecideForm(),
        rules_for=registries.rules_for,
    )


@bp.route("/<int:task_id>", methods=["POST"])
@login_required
def decide(task_id):
    """Mark a task done or refused."""
    _staff_only()
    task = db.session.get(HolderChange, task_id)
    if task is None:
        abort(404)
    form = DecideForm()
    if form.validate_on_submit() and (form.done.data or form.refuse.data):
        try:
            operations.decide(
                task, "done" if form.done.data else "refused", current_user, form.reason.data
            )
        except operations.HolderRefused as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("The holder change of %(domain)s is recorded.", domain=task.domain), "success")
    else:
        for error in form.reason.errors:
            flash(str(error), "error")
    return redirect(url_for("holder.index"))
