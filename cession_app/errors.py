"""Error pages: a clear, translated page for every error, never a traceback."""

from flask import render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from .i18n import lazy_gettext as _l

MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You are not allowed to do this."),
    404: _l("This page does not exist, or you cannot see it."),
    405: _l("This action is not available here."),
    413: _l(
        "What you sent is too large (too much text or too many fields)."
        " Please go back, shorten it and try again."
    ),
    429: _l("Too many attempts. Please wait a while and try again."),
    500: _l("Something went wrong on our side. Nothing was changed; please try again later."),
}
CSRF_MESSAGE = _l("Your form has expired or was sent twice. Please reload the page and try again.")
INVALID_CHARACTERS_MESSAGE = _l(
    "What you sent contains characters that cannot be used (such as invisible control"
    " characters). Nothing was changed; please go back, check what you entered and try again."
)


class InvalidCharacters(BadRequest):
    """The request carries characters no form accepts (NUL, control characters, ...)."""


def render_error(code, message=None):
    """Render the error page for ``code`` (under /api/: a problem+json answer)."""
    from .api import problems

    if problems.is_api_request():
        return problems.for_http_error(code)
    fallback = MESSAGES[400] if 400 <= code < 500 else MESSAGES[500]
    text = message or MESSAGES.get(code, fallback)
    return render_template("errors/error.html", code=code, message=text), code


def init_app(app):
    """Register the handlers."""
    from .api.problems import ApiProblem, from_exception

    app.register_error_handler(ApiProblem, from_exception)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(InvalidCharacters)
    def _invalid_characters(error):
        return render_error(400, INVALID_CHARACTERS_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error):
        return render_error(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error):
        from .extensions import db

        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error(500)
