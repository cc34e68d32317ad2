"""Protection settings of an account: lock outgoing transfers, a password to confirm,
requests accepted automatically from chosen accounts."""

from flask import Blueprint

bp = Blueprint("protection", __name__, url_prefix="/protection")

from . import routes  # noqa: E402,F401
