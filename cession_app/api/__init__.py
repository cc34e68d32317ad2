"""The JSON API under /api/v1: API keys, problem+json errors, the same operations as the web.

``routes`` holds the resources, ``auth`` the keys and rate limit, ``problems`` the errors,
``spec`` the OpenAPI document generated from the routes (apispec) and its reference page.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes, spec  # noqa: E402,F401  (registers the views)
