"""Billing: the payer's page and documents, payments marked by staff, re-issued tax documents."""

from flask import Blueprint

# cli_group=None: the commands are top level (``flask --app cession_app mark-paid``).
bp = Blueprint("billing", __name__, url_prefix="/billing", cli_group=None)

from . import commands, routes  # noqa: E402,F401
