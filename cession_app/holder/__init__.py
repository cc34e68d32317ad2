"""Registry holder changes that transfers ask for: the staff's task list."""

from flask import Blueprint

bp = Blueprint("holder", __name__, url_prefix="/staff/holder-changes")

from . import routes  # noqa: E402,F401
from .labels import holder_state_label  # noqa: E402


@bp.record_once
def _register_globals(state):
    state.app.jinja_env.globals.update(holder_state_label=holder_state_label)
