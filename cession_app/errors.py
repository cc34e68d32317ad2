"""Error pages: a clear, translated page for every error, never a traceback."""

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You are not allowed to do this."),
    404: _l("This page does not exist, or you cannot see it."),
    405: _l("This action is not available here."),
    429: _l("Too many attempts. Please wait a while and try again."),
    500: _l("Something went wrong on our side. Nothing was changed; please try again later."),
}
CSRF_MESSAGE = _l("Your form has expired or was sent twice. Please reload the page and try again.")


def render_error(code, message=None):
    """Render the error page for ``code``."""
    text = message or MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, message=text), code


def init_app(app):
    """Register the handlers."""

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error):
        return render_error(error.code if error.code in MESSAGES else 500)

    @app.errorhandler(Exception)
    def _unexpected(error):
        from .extensions import db

        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error(500)
