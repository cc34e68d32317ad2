"""The protection settings page."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import bp, operations
from .forms import LockForm, SettingsForm, UnlockForm


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Show the lock and the settings; save the settings."""
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        operations.save_settings(
            current_user,
            confirm_with_password=form.confirm_with_password.data,
            auto_accept_from=form.auto_accept_from.data,
        )
        flash(_("Your protection settings have been saved."), "success")
        return redirect(url_for("protection.index"))
    return render_template(
        "protection/index.html",
        form=form,
        lock_form=LockForm(),
        unlock_form=UnlockForm(),
        locked=operations.is_locked(current_user),
    )


@bp.route("/lock", methods=["POST"])
@login_required
def lock():
    """Lock transfers out of the account, at once."""
    if LockForm().validate_on_submit():
        operations.lock(current_user)
        flash(_("Transfers out of your account are locked."), "success")
    return redirect(url_for("protection.index"))


@bp.route("/unlock", methods=["POST"])
@login_required
def unlock():
    """Ask for the lock to end in 24 hours."""
    if UnlockForm().validate_on_submit() and operations.request_unlock(current_user):
        flash(
            _("The lock ends in 24 hours. We have sent a notice to your contact e-mail."),
            "info",
        )
    return redirect(url_for("protection.index"))
