"""Settings an admin may change while the app runs; the environment's values are defaults.

``get(name)`` reads the stored value (once per request or command) or falls back to the
app's config; ``save`` stores a change with its audit event.
"""

from flask import current_app, g, has_app_context
from sqlalchemy import select

from . import audit
from .extensions import db
from .models import SiteSetting
from .models.base import utcnow

EDITABLE = ("TRANSFER_EXPIRY_DAYS", "REMINDER_DAYS_BEFORE", "REQUIRE_APPROVAL", "SUPPORT_EMAIL")


def _stored():
    cached = g.get("_site_settings") if has_app_context() else None
    if cached is None:
        rows = db.session.execute(select(SiteSetting.name, SiteSetting.value)).all()
        cached = dict(rows)
        if has_app_context():
            g._site_settings = cached
    return cached


def get(name):
    """The setting's current value: as an admin stored it, else the environment's."""
    if name not in EDITABLE:
        raise KeyError(name)
    stored = _stored()
    return stored[name] if name in stored else current_app.config[name]


def forget():
    """Read the settings again on the next ``get`` (a worker's pass, after a save)."""
    if has_app_context():
        g.pop("_site_settings", None)


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
