"""Views: log in/out, my data, language switcher."""

import time
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from .. import audit, i18n, mailer
from ..errors import render_error
from ..extensions import db, limiter, login_manager
from ..i18n import gettext as _
from ..i18n import ngettext
from ..models import Account
from ..security import limit_posts, no_store
from . import bp, oidc, operations, sessions, throttle, two_factor
from . import sso as sso_links
from .forms import (
    ButtonForm,
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    PreferencesForm,
    RecoveryCodesForm,
    SecondFactorForm,
    TwoFactorOffForm,
    TwoFactorSetupForm,
)


@login_manager.user_loader
def load_user(user_id):
    """Flask-Login: the account of a live server-side session (ended ones are refused)."""
    return sessions.load_account(user_id)


def _safe_next(target):
    """Only same-site relative paths, so ``next`` cannot send users elsewhere.

    Browsers read a backslash as a slash: ``/\\evil.example`` would leave the site.
    """
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
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
@limit_posts(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def login():
    """Log in with login name and password."""
    if current_user.is_authenticated:
        return redirect(url_for("services.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = operations.authenticate(form.login.data, form.password.data)
        remembered = two_factor.is_remembered(
            result.account, request.cookies.get(two_factor.DEVICE_COOKIE)
        )
        if result.account is not None and two_factor.is_enabled(result.account) and not remembered:
            db.session.commit()  # a rehashed password
            session[PENDING] = {"a": result.account.id, "t": int(time.time())}
            session[PENDING_NEXT] = request.args.get("next")
            return redirect(url_for("accounts.login_code"))
        if result.account is not None:
            login_user(result.account)
            operations.log_in(
                result.account, method="password+device" if remembered else "password"
            )
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        if result.wait:
            flash(_wait_message(result.wait), "error")
            status = 429
        else:
            flash(_("The login name or password is not correct."), "error")
    provider = (
        _("Sign in with %(name)s", name=current_app.config["OIDC_NAME"])
        if current_app.config["OIDC_NAME"]
        else _("Sign in with your reseller account")
    )
    return render_template(
        "accounts/login.html", form=form, oidc_label=provider if oidc.client() else None
    ), status


PENDING = "2fa_pending"
PENDING_NEXT = "2fa_next"
# Seconds between the password and the code.
PENDING_MAX_AGE = 300


def _pending_account():
    """The account whose password was right, waiting for its second factor, or None."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("t", 0) > PENDING_MAX_AGE:
        return None
    return db.session.get(Account, pending.get("a"))


@bp.route("/login/code", methods=["GET", "POST"])
@limit_posts(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def login_code():
    """Log-in, second step: the code from the authenticator app (or a recovery code)."""
    account = _pending_account()
    if account is None:
        session.pop(PENDING, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("accounts.login"))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        wait = throttle.seconds_to_wait(account.login)
        used = None if wait else two_factor.verify(account, form.code.data)
        if used:
            session.pop(PENDING, None)
            login_user(account)
            operations.log_in(account, method=f"password+{used}")
            db.session.commit()
            response = redirect(_safe_next(session.pop(PENDING_NEXT, None)))
            if form.remember.data and two_factor.remember_days():
                _remember_browser(response, account)
            return response
        db.session.rollback()
        wait = wait or throttle.record_failure(account.login)
        if wait:
            form.code.errors.append(_wait_message(wait))
            status = 429
        else:
            form.code.errors.append(_("This code is not correct, or it has been used already."))
    days = two_factor.remember_days()
    return render_template("accounts/login_code.html", form=form, remember_days=days), status


def _remember_browser(response, account):
    """Let this browser skip the code for TWO_FACTOR_REMEMBER_DAYS (a signed cookie)."""
    response.set_cookie(
        two_factor.DEVICE_COOKIE,
        two_factor.device_token(account),
        max_age=two_factor.remember_days() * 86400,
        path=url_for("accounts.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


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


@bp.route("/sso")
@no_store
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def sso():
    """Sign in with a link signed by the reseller's billing panel (see ``sso.py``)."""
    if not sso_links.enabled():
        abort(404)
    audit.set_channel("link")
    try:
        account = sso_links.check(request.args)
    except sso_links.SsoRefused as exc:
        db.session.rollback()
        current_app.logger.info("sign-in link refused: %s", exc.reason)
        return render_error(
            403,
            _(
                "This sign-in link is not valid or has expired. Please open the customer"
                " panel again from your billing panel, or log in with your password."
            ),
        )
    if current_user.is_authenticated:
        sessions.end_current()
        logout_user()
    login_user(account)
    operations.log_in(account, method="sso")
    db.session.commit()
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/login/oidc")
def oidc_start():
    """Sign in with the reseller's OpenID Connect provider: off to its log-in page."""
    provider = oidc.client()
    if provider is None:
        abort(404)
    return provider.authorize_redirect(mailer.link("accounts.oidc_callback"))


@bp.route("/login/oidc/callback")
@no_store
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def oidc_callback():
    """Back from the provider: check its answer, sign in the account its claim names."""
    provider = oidc.client()
    if provider is None:
        abort(404)
    try:
        token = provider.authorize_access_token()
        claims = token.get("userinfo") or {}
    except Exception:  # noqa: BLE001 any failure of the provider or its answer: refuse
        current_app.logger.info("OpenID Connect sign-in refused", exc_info=True)
        claims = None
    account = oidc.account_for(claims) if claims is not None else None
    if account is None:
        return render_error(
            403,
            _(
                "We could not sign you in with that account: it is not linked to a customer"
                " account here. Please log in with your login name and password."
            ),
        )
    if current_user.is_authenticated:
        sessions.end_current()
        logout_user()
    login_user(account)
    operations.log_in(account, method="oidc")
    db.session.commit()
    return redirect(url_for("services.index"))


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST only, with CSRF): this and every other session of the account end on
    the server too, so a cookie copied from any browser is dead (issue 10: sessions)."""
    if current_user.is_authenticated:
        sessions.end_all(current_user)
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
    return _my_data_page(form=form)


def _my_data_page(status=200, **forms):
    """My data with its forms (those given keep what was entered and their errors)."""
    forms.setdefault("form", PreferencesForm(obj=current_user, formdata=None))
    forms.setdefault("password_form", ChangePasswordForm(current_user, formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    forms.setdefault("two_factor_off_form", TwoFactorOffForm(formdata=None))
    forms.setdefault("recovery_form", RecoveryCodesForm(formdata=None))
    rows = sessions.live_sessions(current_user)
    page = render_template(
        "accounts/my_data.html",
        sessions=rows,
        current_session=next((row for row in rows if sessions.is_current(row)), None),
        device=sessions.device,
        two_factor_on=two_factor.is_enabled(current_user),
        two_factor_required=two_factor.required(current_user),
        recovery_left=two_factor.recovery_codes_left(current_user),
        **forms,
    )
    return page, status


def _current_password_refused(result):
    """The message when the current password was wrong (or must wait); None when right."""
    if result.account is not None:
        return None
    if result.wait:
        return _wait_message(result.wait)
    return _("The current password is not correct.")


@bp.route("/my-data/password", methods=["POST"])
@login_required
def change_password():
    """Change the password: the current one first; every other session ends."""
    form = ChangePasswordForm(current_user)
    if form.validate_on_submit():
        result = operations.check_current_password(current_user, form.current.data)
        refused = _current_password_refused(result)
        if refused is None:
            operations.set_new_password(
                current_user, form.password.data, how="changed", keep_session=sessions.current_key()
            )
            db.session.commit()
            flash(
                _("Your password has been changed. Other browsers have been signed out."), "success"
            )
            return redirect(url_for("accounts.my_data"))
        form.current.errors.append(refused)
    return _my_data_page(password_form=form)


@bp.route("/my-data/email", methods=["POST"])
@login_required
def change_email():
    """Ask to change the contact e-mail: a link goes to the new address first."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        result = operations.check_current_password(current_user, form.current.data)
        refused = _current_password_refused(result)
        if refused is None and form.email.data.lower() == current_user.email.lower():
            form.email.errors.append(_("This is your contact e-mail already."))
        elif refused is None:
            operations.request_email_change(current_user, form.email.data)
            db.session.commit()
            flash(
                _(
                    "We have sent a confirmation link to %(address)s. Your contact e-mail"
                    " changes when you open it.",
                    address=form.email.data,
                ),
                "info",
            )
            return redirect(url_for("accounts.my_data"))
        else:
            form.current.errors.append(refused)
    return _my_data_page(email_form=form)


@bp.route("/my-data/email/confirm/<token>", methods=["GET", "POST"])
@no_store
def confirm_email(token):
    """The link mailed to a new address: confirming makes it the contact e-mail."""
    audit.set_channel("link")
    try:
        account, address = operations.check_email_change(token)
    except operations.LinkRefused as exc:
        return render_error(exc.status, exc.message)
    form = ButtonForm()
    if form.validate_on_submit():
        operations.apply_email_change(account, address)
        db.session.commit()
        flash(_("Your contact e-mail is now %(address)s.", address=address), "success")
        return redirect(
            url_for("accounts.my_data" if current_user.is_authenticated else "accounts.login")
        )
    return render_template(
        "accounts/email_link.html", form=form, account=account, address=address, undo=False
    )


@bp.route("/my-data/email/undo/<token>", methods=["GET", "POST"])
@no_store
def undo_email(token):
    """The link mailed to the old address: put it back, and sign out every session."""
    audit.set_channel("link")
    try:
        account, address = operations.check_email_undo(token)
    except operations.LinkRefused as exc:
        return render_error(exc.status, exc.message)
    form = ButtonForm()
    if form.validate_on_submit():
        operations.undo_email_change(account, address)
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        flash(
            _(
                "Your contact e-mail is %(address)s again, and every browser has been signed"
                " out. If you did not ask for the change, set a new password now.",
                address=address,
            ),
            "success",
        )
        return redirect(url_for("accounts.forgot_password"))
    return render_template(
        "accounts/email_link.html", form=form, account=account, address=address, undo=True
    )


@bp.route("/my-data/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id):
    """Sign out one browser of this account."""
    if ButtonForm().validate_on_submit() and operations.end_session(current_user, session_id):
        db.session.commit()
        flash(_("That browser has been signed out."), "success")
    else:
        flash(_("That session has ended already."), "info")
    return redirect(url_for("accounts.my_data"))


@bp.route("/my-data/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    """Sign out every other browser of this account."""
    if ButtonForm().validate_on_submit():
        ended = operations.end_other_sessions(current_user, sessions.current_key())
        db.session.commit()
        flash(
            ngettext(
                "%(num)d other browser has been signed out.",
                "%(num)d other browsers have been signed out.",
                ended,
            ),
            "success",
        )
    return redirect(url_for("accounts.my_data"))


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


# ---------------------------------------------------------------- forgot / set password
@bp.route("/password/forgot", methods=["GET", "POST"])
@limit_posts(lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT"])
def forgot_password():
    """Ask for a link to set a new password; the same answer whether the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.identifier.data)
        flash(
            _(
                "If an account with these details exists, we have sent a link to set a new"
                " password to its contact e-mail. The link is valid for one hour."
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@no_store
def reset_password(token):
    """The page a reset link opens: set a new password."""
    return _set_password(operations.RESET, token)


@bp.route("/password/invitation/<token>", methods=["GET", "POST"])
@no_store
def accept_invitation(token):
    """The page an invitation link opens: set the first password."""
    return _set_password(operations.INVITATION, token)


def _set_password(purpose, token):
    audit.set_channel("link")
    try:
        account = operations.check_password_token(purpose, token)
    except operations.LinkRefused as exc:
        return render_error(exc.status, exc.message)
    form = NewPasswordForm(account)
    if form.validate_on_submit():
        operations.set_new_password(account, form.password.data, how=purpose)
        db.session.commit()
        if current_user.is_authenticated:  # its session has just ended on the server
            logout_user()
        flash(_("Your password has been set. You can log in with it now."), "success")
        return redirect(url_for("accounts.login"))
    return render_template(
        "accounts/set_password.html", form=form, account=account, purpose=purpose
    )


# ---------------------------------------------------------------- two-factor in My data
SETUP_SECRET = "2fa_setup"


@bp.before_app_request
def _staff_need_two_factor():
    """Staff accounts without two-factor go to enrolment before any staff page."""
    endpoint = request.endpoint or ""
    staff_page = request.blueprint == "staff" or endpoint.rpartition(".")[2].startswith("staff")
    if not staff_page or not current_user.is_authenticated:
        return None
    if two_factor.required(current_user) and not two_factor.is_enabled(current_user):
        flash(_("Staff pages need two-factor authentication. Please turn it on first."), "info")
        return redirect(url_for("accounts.two_factor_setup"))
    return None


@bp.route("/my-data/two-factor", methods=["GET", "POST"])
@login_required
@no_store
def two_factor_setup():
    """Turn two-factor on: scan the QR code, type the first code; recovery codes once."""
    if two_factor.is_enabled(current_user):
        return redirect(url_for("accounts.my_data", _anchor="two-factor"))
    secret = session.get(SETUP_SECRET)
    if not isinstance(secret, str) or request.method == "GET":
        secret = session[SETUP_SECRET] = two_factor.new_secret()
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        codes = two_factor.enable(current_user, secret, form.code.data)
        if codes is not None:
            db.session.commit()
            session.pop(SETUP_SECRET, None)
            return render_template("accounts/recovery_codes.html", codes=codes, first=True)
        form.code.errors.append(
            _("This code is not correct. Please type the code your app shows now.")
        )
    uri = two_factor.provisioning_uri(current_user, secret)
    return render_template(
        "accounts/two_factor_setup.html", form=form, secret=secret, qr=two_factor.qr_code(uri)
    )


def _second_factor_refused(form, with_password):
    """Check the code (and the current password) of a two-factor change; the error or None."""
    if with_password:
        result = operations.check_current_password(current_user, form.current.data)
        refused = _current_password_refused(result)
        if refused is not None:
            form.current.errors.append(refused)
            return refused
    if not two_factor.verify(current_user, form.code.data):
        form.code.errors.append(_("This code is not correct, or it has been used already."))
        return True
    return None


@bp.route("/my-data/two-factor/off", methods=["POST"])
@login_required
def two_factor_off():
    """Turn two-factor off (not for staff while it is required)."""
    form = TwoFactorOffForm()
    if two_factor.required(current_user):
        flash(_("Staff accounts must keep two-factor authentication."), "error")
        return redirect(url_for("accounts.my_data"))
    if form.validate_on_submit() and _second_factor_refused(form, True) is None:
        two_factor.disable(current_user)
        db.session.commit()
        flash(_("Two-factor authentication is off."), "success")
        return redirect(url_for("accounts.my_data"))
    db.session.commit()  # a used code stays used
    return _my_data_page(two_factor_off_form=form)


@bp.route("/my-data/two-factor/recovery-codes", methods=["POST"])
@login_required
@no_store
def new_recovery_codes():
    """Replace the recovery codes; the new ones are shown once."""
    form = RecoveryCodesForm()
    if form.validate_on_submit() and _second_factor_refused(form, False) is None:
        codes = two_factor.new_recovery_codes(current_user)
        db.session.commit()
        return render_template("accounts/recovery_codes.html", codes=codes, first=False)
    db.session.commit()
    return _my_data_page(recovery_form=form)
