"""Staff console: search, customer and request pages, interventions, audit trail, outbox."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import routes  # noqa: E402,F401
from . import integrations  # noqa: E402,F401  (after routes: its staff check runs first)
from .commands import staff_cli  # noqa: E402

__all__ = ["bp", "staff_cli"]
