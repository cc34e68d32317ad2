"""Errors as application/problem+json (RFC 9457), translated, with a machine code."""

from flask import current_app, jsonify, request

from ..i18n import lazy_gettext as _l

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: _l("The request is not valid."),
    401: _l("An API key is needed."),
    403: _l("This API key may not do this."),
    404: _l("Not found, or not visible to this API key."),
    405: _l("This method is not available here."),
    409: _l("The request conflicts with the current state."),
    413: _l("What you sent is too large."),
    415: _l("Send JSON (Content-Type: application/json)."),
    422: _l("The data has problems; nothing was changed."),
    429: _l("Too many requests with this API key. Please wait a while."),
    500: _l("Something went wrong on our side. Nothing was changed; please try again later."),
}


class ApiProblem(Exception):
    """An error answer: ``status``, a machine ``code``, a translated ``detail``, ``errors``."""

    def __init__(self, status, code, detail=None, errors=None, headers=None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def is_api_request():
    """True for requests under /api/ (errors there are problem+json, not pages)."""
    return request.path.startswith("/api/")


def problem_body(status, code, detail=None, errors=None):
    """The problem document as a dict."""
    title = TITLES.get(status) or TITLES[400 if status < 500 else 500]
    body = {
        "type": f"{current_app.config['BASE_URL']}/api/v1/docs#problems",
        "title": str(title),
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    return body


def response(status, code, detail=None, errors=None, headers=None):
    """A problem+json response."""
    answer = jsonify(problem_body(status, code, detail, errors))
    answer.status_code = status
    answer.mimetype = MEDIA_TYPE
    answer.headers["Content-Language"] = str(_current_language())
    for name, value in (headers or {}).items():
        answer.headers[name] = value
    return answer


def _current_language():
    from flask_babel import get_locale

    return get_locale() or "en"


def from_exception(problem):
    """The response for an ApiProblem."""
    return response(problem.status, problem.code, problem.detail, problem.errors, problem.headers)


HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "server_error",
}


def for_http_error(status):
    """The response for a plain HTTP error (404 of an unknown path, 405, 413, ...)."""
    return response(status, HTTP_CODES.get(status, "error"))
