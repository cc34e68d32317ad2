"""Security in one place, configured from settings in the app factory.

- Response headers (Flask-Talisman): a Content-Security-Policy without inline script or
  style, no framing, no MIME sniffing, no referrer (links carry tokens); HSTS over HTTPS.
- ``no_store``: pages with live links or personal documents are never cached.
- Trusted proxies (``TRUSTED_PROXIES``): Werkzeug's ProxyFix, so limits and the audit trail
  see the real client address; with none, ``X-Forwarded-*`` headers are ignored.
- Input every request may carry: characters no form accepts (NUL, control characters,
  lone surrogates) in the path, the query or the form answer a clear 400, never a 500.
- Ids in URLs: ``<int:...>`` matches only numbers the database can hold (404 otherwise).
- The development mailbox only with ``DEV_MAILBOX`` and a loopback ``BASE_URL``.
"""

import ipaddress
import logging
import os
import re
import shlex
import sys
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask.globals import _cv_app
from flask_talisman import Talisman
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, ValidationError

from .errors import InvalidCharacters
from .extensions import limiter

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The largest id a column holds (PostgreSQL ``integer``); a larger number names nothing.
MAX_ID = 2**31 - 1
# C0 controls except tab, line feed and carriage return; DEL; lone surrogates.
FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Headers a proxy adds: a request carrying one did not come from this machine's own user.
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")


class IdConverter(IntegerConverter):
    """``<int:...>``: a non-negative number up to MAX_ID; anything larger is no page (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value):
        """The number, or no match when it has more digits than any id (never a 500)."""
        if len(value.lstrip("-0")) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)


class SecurityHeaders(Talisman):
    """Talisman's headers, worked out once per view: its options are fixed while a process
    runs, yet Talisman rebuilt every header (the policy string too) on every request.

    Only Strict-Transport-Security depends on the request (sent over HTTPS only). With a
    CSP nonce (not used here) or HTTPS forced, Talisman's own steps run as before.
    """

    def init_app(self, app, **options):
        """Talisman's, then the session cookie setting it would apply on every request."""
        super().init_app(app, **options)
        self._fixed = {}  # endpoint -> (headers before HSTS, headers after it)
        if self.session_cookie_secure and not app.debug:
            app.config["SESSION_COOKIE_SECURE"] = True

    def _dynamic(self):
        return self.content_security_policy_nonce_in or self._get_local_options()["force_https"]

    def _force_https(self):
        if self._fixed_for(request.endpoint) is None:
            return super()._force_https()
        return None

    def _make_nonce(self):
        if self._fixed_for(request.endpoint) is None:
            super()._make_nonce()

    def _fixed_for(self, endpoint):
        """The view's fixed headers; None when they depend on the request."""
        if endpoint not in self._fixed:
            self._fixed[endpoint] = None if self._dynamic() else self._work_out()
        return self._fixed[endpoint]

    def _work_out(self):
        options, before, after = self._get_local_options(), Headers(), Headers()
        self._set_feature_policy_headers(before, options)
        self._set_permissions_policy_headers(before, options)
        self._set_document_policy_headers(before, options)
        self._set_frame_options_headers(before, options)
        self._set_content_security_policy_headers(before, options)
        self._set_referrer_policy_headers(after)
        hsts = Headers()
        self._set_hsts_headers_always(hsts)
        return list(before.items()), list(hsts.items()), list(after.items())

    def _set_hsts_headers_always(self, headers):
        if not self.strict_transport_security:
            return
        value = f"max-age={self.strict_transport_security_max_age}"
        if self.strict_transport_security_include_subdomains:
            value += "; includeSubDomains"
        if self.strict_transport_security_preload:
            value += "; preload"
        headers["Strict-Transport-Security"] = value

    def _set_response_headers(self, response):
        fixed = self._fixed_for(request.endpoint)
        if fixed is None:
            return super()._set_response_headers(response)
        before, hsts, after = fixed
        headers = response.headers
        for name, value in before:
            headers[name] = value
        if hsts and (
            request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https"
        ):
            for name, value in hsts:
                headers[name] = value
        for name, value in after:
            headers[name] = value
        return response


def view_policy(**options):
    """Per-view header options (e.g. ``content_security_policy``), as Talisman takes them."""

    def decorator(view):
        view.talisman_view_options = options
        return view

    return decorator


def limits_everywhere():
    """Whether a limit covers more than the views that declare their own: Flask-Limiter's
    default, application, blueprint or meta limits, or a limit met earlier on an endpoint
    (none unless the settings add one, e.g. ``RATELIMIT_DEFAULT``)."""
    manager = limiter.limit_manager
    return bool(
        manager._default_limits
        or manager._application_limits
        or manager._blueprint_limits
        or manager._endpoint_hints
        or limiter._meta_limits
    )


def limit_posts(limit_value):
    """``limiter.limit(limit_value, methods=["POST"])`` for a page that is also shown by GET:
    showing it does not go through Flask-Limiter (which looked for limits on every view of
    the log-in page, about 280 Python calls, to find none) unless ``limits_everywhere``."""

    def decorator(view):
        limited = limiter.limit(limit_value, methods=["POST"])(view)

        @wraps(view)
        def checked(*args, **kwargs):
            if request.method == "POST" or limits_everywhere():
                return limited(*args, **kwargs)
            return view(*args, **kwargs)

        return checked

    return decorator


def no_store(view):
    """Mark a view whose answers must never be cached (confirmation links, documents)."""
    view.no_store = True
    return view


def is_loopback_url(url):
    """Whether ``url`` names this machine (localhost, 127.0.0.0/8 or ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_request():
    """Whether the request comes from this machine directly, not through any proxy."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def check_config(config):
    """Refuse to start with settings that would expose live confirmation links."""
    if config["DEV_MAILBOX"] and not is_loopback_url(config["BASE_URL"]):
        raise RuntimeError(
            f"DEV_MAILBOX is on but BASE_URL ({config['BASE_URL']}) is not a loopback address:"
            " refusing to start. The development mailbox shows every confirmation link; turn"
            " it off (see README, Settings)."
        )
    if config["TRUSTED_PROXIES"] < 0:
        raise RuntimeError("TRUSTED_PROXIES must be 0 or more (see README, Settings).")


def configured_web_workers(environ=None, argv=None):
    """How many web workers gunicorn will start, as far as its settings tell (else 1).

    gunicorn takes ``--workers``/``-w`` from its command line or GUNICORN_CMD_ARGS, else
    WEB_CONCURRENCY.
    """
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    args = shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))
    if argv and "gunicorn" in os.path.basename(argv[0]):
        args += list(argv[1:])
    workers = environ.get("WEB_CONCURRENCY")
    for index, arg in enumerate(args):
        if arg in ("-w", "--workers") and index + 1 < len(args):
            workers = args[index + 1]
        elif arg.startswith("--workers="):
            workers = arg.partition("=")[2]
        elif arg.startswith("-w") and arg[2:].isdigit():
            workers = arg[2:]
    try:
        return max(1, int(workers or 1))
    except ValueError:
        return 1


def warn_about_limit_storage(config, workers=None):
    """Warn when per-address limits are counted in memory by several web workers."""
    workers = configured_web_workers() if workers is None else workers
    if config["RATELIMIT_STORAGE_URI"].startswith("memory://") and workers > 1:
        logging.getLogger("cession").warning(
            "RATELIMIT_STORAGE_URI is memory:// with %d web workers: each worker counts"
            " requests on its own, so the limits per address allow up to %d times as many."
            " Use a shared storage such as redis://localhost:6379 (README, Running behind"
            " nginx).",
            workers,
            workers,
        )
        return True
    return False


def init_url_map(app):
    """Bound ``<int:...>`` in every URL; call before the blueprints are registered."""
    app.url_map.converters["int"] = IdConverter


def _values_of(sources):
    for source in sources:
        for key, values in source.lists():
            yield key
            yield from values


def _check_input():
    """Too many fields: 413 (any encoding, as MAX_FORM_PARTS does for multipart); NUL and
    other control characters belong to no form field: a clear 400 page.

    A request without a Content-Type has no form (Werkzeug parses none): its form is not
    looked at, nor its query string when it has none."""
    sources = [request.args] if request.environ.get("QUERY_STRING") else []
    if request.environ.get("CONTENT_TYPE"):
        form = request.form
        fields = sum(len(values) for _, values in form.lists())
        if fields > current_app.config["MAX_FORM_PARTS"]:
            raise RequestEntityTooLarge()
        sources.append(form)
    if FORBIDDEN_CHARACTERS.search(request.path):
        raise InvalidCharacters()
    for value in _values_of(sources):
        if FORBIDDEN_CHARACTERS.search(value):
            raise InvalidCharacters()


# Signed CSRF tokens kept per process: {session's raw token: signed token}, at most this many.
CSRF_KEPT = 2048


def _kept_csrf_token():
    """Flask-WTF signs the session's CSRF token anew on every page (about 150 Python calls);
    tokens never expire here (WTF_CSRF_TIME_LIMIT None), so a session's signed token is
    kept and given to Flask-WTF (``g``) before the page asks for it."""
    cfg = current_app.config
    name = cfg["WTF_CSRF_FIELD_NAME"]
    raw = session.get(name)
    if raw is None or cfg["WTF_CSRF_TIME_LIMIT"] is not None or name in g:
        return
    kept = current_app.extensions.setdefault("cession_csrf_tokens", {})
    token = kept.get(raw)
    if token is None:
        if len(kept) >= CSRF_KEPT:
            kept.clear()
        kept[raw] = generate_csrf()  # signs, and sets g for this request
    else:
        setattr(g, name, token)


def _csrf_token():
    """Flask-WTF's ``generate_csrf`` for templates (``csrf_token()``): the request's token,
    once made (or kept, above), read from Flask's context variable without Flask-WTF's
    config lookups through proxies (about 30 Python calls; a page asks up to a few times)."""
    app_context = _cv_app.get(None)
    if app_context is not None:
        token = app_context.g.__dict__.get(app_context.app.config["WTF_CSRF_FIELD_NAME"])
        if token is not None:
            return token
    return generate_csrf()


_CSRF_GLOBALS = {"csrf_token": _csrf_token}


def _no_store(response):
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "no_store", False):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    """Headers, proxies and input checks, from the settings."""
    cfg = app.config
    secure = cfg["BASE_URL"].startswith("https://")
    app.extensions["talisman"] = SecurityHeaders(
        app,
        force_https=False,  # the proxy in front redirects to HTTPS; BASE_URL says which
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="no-referrer",
        session_cookie_secure=secure,
        strict_transport_security_include_subdomains=False,  # the reseller's other hosts
    )
    if cfg["TRUSTED_PROXIES"]:
        hops = cfg["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.before_request(_check_input)
    app.before_request(_kept_csrf_token)
    # Flask-WTF gives templates its own, as a global and from a context processor too.
    app.jinja_env.globals["csrf_token"] = _csrf_token
    app.context_processor(_CSRF_GLOBALS.copy)
    warn_about_limit_storage(cfg)
    app.after_request(_no_store)
