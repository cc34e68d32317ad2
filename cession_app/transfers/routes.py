"""Views of the transfer wizards and request pages."""

from flask import render_template
from flask_login import login_required

from . import bp


@bp.route("/")
@login_required
def index():
    """The transfer page: both wizards and the overview of requests."""
    return render_template("transfers/index.html")
