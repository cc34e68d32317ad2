"""Transfers: see routes.py."""

from flask import Blueprint

bp = Blueprint("transfers", __name__, url_prefix="/transfers")

from . import routes, wizard_routes  # noqa: E402,F401
