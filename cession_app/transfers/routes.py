"""Views of the request pages: details, confirmation links, cancel, resend."""

from flask import abort
from flask_login import login_required

from . import bp


@bp.route("/requests/<int:request_id>")
@login_required
def detail(request_id):
    """A request's details (parties and staff only)."""
    abort(404)


@bp.route("/requests/<int:request_id>/respond/<token>", methods=["GET", "POST"])
def respond(request_id, token):
    """The page a confirmation link opens: details, Confirm / Decline (POST only acts)."""
    abort(404)
