"""Settings an admin may change while the app runs; the environment's values are defaults.

``get(name)`` reads the stored value (once per request or command) or falls back to the
app's config; ``save`` stores a change with its audit event.

``get(name, kept=True)`` is for what every page shows (the support address in the
footer): the values this process read last, for at most ``KEEP_SECONDS``, so that a page
that needs nothing else from the database (the log-in page) runs no SQL statement. A change
shows at once in the process that saved it and within ``KEEP_SECONDS`` in the others; the
rules (request lifetime, approval) always read the stored values.
"""

import time

from flask import current_app, g, has_app_context
from sqlalchemy import select

from . import audit
from .extensions import db
from .models import SiteSetting
from .models.base import utcnow

EDITABLE = ("TRANSFER_EXPIRY_DAYS", "REMINDER_DAYS_BEFORE", "REQUIRE_APPROVAL", "SUPPORT_EMAIL")
KEEP_SECONDS = 5.0
_KEPT = "cession_site_settings"  # app.extensions: (read at, {name: value})


def _stored():
    cached = g.get("_site_settings") if has_app_context() else None
    if cached is None:
        rows = db.session.execute(select(SiteSetting.name, SiteSetting.value)).all()
        cached = dict(rows)
        if has_app_context():
            g._site_settings = cached
            current_app.extensions[_KEPT] = (time.monotonic(), cached)
    return cached


def _keep_seconds():
    """How long a process keeps the values for ``kept`` reads (never in tests or debug)."""
    app = current_app
    return 0 if app.testing or app.debug else KEEP_SECONDS


def _kept():
    if has_app_context() and g.get("_site_settings") is None:
        kept = current_app.extensions.get(_KEPT)
        if kept is not None and time.monotonic() - kept[0] < _keep_seconds():
            return kept[1]
    return _stored()


def get(name, *, kept=False):
    """The setting's current value: as an admin stored it, else the environment's.
    ``kept``: as this process read it within ``KEEP_SECONDS`` (what pages show; see above)."""
    if name not in EDITABLE:
        raise KeyError(name)
    stored = _kept() if kept else _stored()
    return stored[name] if name in stored else current_app.config[name]


def forget():
    """Read the settings again on the next ``get`` (a worker's pass, after a save)."""
    if has_app_context():
        g.pop("_site_settings", None)
        current_app.extensions.pop(_KEPT, None)


def current():
    """{name: value} of every editable setting."""
    return {name: get(name) for name in EDITABLE}


def save(values, actor):
    """Store the changed settings, each with an audit event (caller commits)."""
    changed = {}
    for name, value in values.items():
        if name in EDITABLE and value != get(name):
            row = db.session.get(SiteSetting, name) or SiteSetting(name=name)
            row.value, row.updated_at, row.updated_by = value, utcnow(), actor.id
            db.session.add(row)
            audit.record("setting_changed", "setting", name, actor=actor, value=value)
            changed[name] = value
    forget()
    return changed
