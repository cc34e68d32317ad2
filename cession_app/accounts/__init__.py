"""Log in and out, "My data", language choice."""

from flask import Blueprint

# cli_group=None: the commands are top level (``flask --app cession_app invite``).
bp = Blueprint("accounts", __name__, cli_group=None)

from . import commands, routes  # noqa: E402,F401
