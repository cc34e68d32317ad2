"""Staff console: search, customer and request pages, interventions, audit trail, outbox."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import integrations, routes  # noqa: E402,F401
from .commands import staff_cli  # noqa: E402

__all__ = ["bp", "staff_cli"]
