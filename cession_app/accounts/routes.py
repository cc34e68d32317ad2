"""Views: log in/out, my data, language switcher."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from .. import audit, i18n
from ..extensions import db, limiter, login_manager
from . import bp, operations, sessions
from .forms import LanguageForm, LoginForm, PreferencesForm


@login_manager.user_loader
def load_user(user_id):
    """Flask-Login: the account of a live server-side session (ended ones are refused)."""
    return sessions.load_account(user_id)


def _safe_next(target):
    """Only same-site relative paths, so ``next`` cannot send users elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        if not urlsplit(target).netloc:
            return target
    return url_for("services.index")


@bp.route("/")
def home():
    """Start page: my services for a logged-in account, else the log-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("services.index"))
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with login name and password."""
    if current_user.is_authenticated:
        return redirect(url_for("services.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = operations.authenticate(form.login.data, form.password.data)
        if result.account is not None:
            login_user(result.account)
            operations.log_in(result.account)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        if result.wait:
            flash(_wait_message(result.wait), "error")
            status = 429
        else:
            flash(_("The login name or password is not correct."), "error")
    return render_template("accounts/login.html", form=form), status


def _wait_message(seconds):
    """Too many failed log-ins: how long to wait, in minutes (rounded up) or seconds."""
    if seconds >= 60:
        return ngettext(
            "Too many failed log-ins with this login name. Please try again in %(num)d minute.",
            "Too many failed log-ins with this login name. Please try again in %(num)d minutes.",
            -(-seconds // 60),
        )
    return ngettext(
        "Too many failed log-ins with this login name. Please try again in %(num)d second.",
        "Too many failed log-ins with this login name. Please try again in %(num)d seconds.",
        seconds,
    )


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST only, with CSRF): the session ends on the server too."""
    sessions.end_current()
    db.session.commit()
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/my-data", methods=["GET", "POST"])
@login_required
def my_data():
    """Show the account's identifiers and let it change language and time zone."""
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        i18n.remember_language(form.language.data)  # also this browser's choice after log-out
        current_user.timezone = form.timezone.data
        audit.record(
            "preferences_changed",
            "account",
            current_user.code,
            actor=current_user,
            language=form.language.data,
            timezone=form.timezone.data,
        )
        db.session.commit()
        flash(_("Your settings have been saved."), "success")
        return redirect(url_for("accounts.my_data"))
    return render_template("accounts/my_data.html", form=form)


@bp.route("/language", methods=["POST"])
def set_language():
    """Remember a visitor's language choice (and a logged-in account's setting)."""
    form = LanguageForm()
    if form.validate_on_submit() and i18n.remember_language(form.language.data):
        if current_user.is_authenticated:
            audit.record(
                "preferences_changed",
                "account",
                current_user.code,
                actor=current_user,
                language=form.language.data,
            )
            db.session.commit()
    else:
        flash(_("Please choose one of the languages offered."), "error")
    return redirect(_safe_next(request.form.get("next")))
