"""Flask's signed session cookie, read with less work on every request.

Flask builds its signing serializer anew for every request and verifies the cookie's
signature and decodes it every time (about 280 Python calls), though a browser sends the
same cookie on page after page. Here the serializer is kept per set of keys, and a cookie
that verified is kept (its content and when it was signed) per process by
``tokens.kept_loads``, as link tokens are: the same cookie
string again gives a copy of the same content after the same age check (a session older than
PERMANENT_SESSION_LIFETIME, or signed in the future, is empty, as Flask makes it). A cookie
that fails verification is never kept. Logging out still works as before: it is the server's
session record (``accounts/sessions``) that ends, not the cookie.
"""

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from .tokens import kept_loads


class KeptSessionInterface(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` with its serializer and verified cookies kept."""

    def get_signing_serializer(self, app):
        """Flask's serializer, built once per secret key and fallback keys."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept = app.extensions.get("cession_session_serializer")
        if kept is None or kept[0] != keys:
            kept = app.extensions["cession_session_serializer"] = (
                keys,
                super().get_signing_serializer(app),
            )
        return kept[1]

    def open_session(self, app, request):
        """Flask's ``open_session``; a cookie verified before is not verified again."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        verified = app.extensions.setdefault("cession_verified_cookies", {})
        try:
            return self.session_class(kept_loads(serializer, value, max_age, verified))
        except BadSignature:
            return self.session_class()


def init_app(app):
    """Sessions read through ``KeptSessionInterface``."""
    app.session_interface = KeptSessionInterface()
