"""Views of the billing page."""

from flask import render_template
from flask_login import login_required

from . import bp


@bp.route("/")
@login_required
def index():
    """The account's payment requests and invoices."""
    return render_template("billing/index.html")
