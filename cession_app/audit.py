"""Record audit events in the caller's transaction."""

from flask import has_request_context, request

from .extensions import db
from .models import AuditEvent


def record(action, object_type, object_id, actor=None, **details):
    """Add an audit event to the current session (committed with the change it records)."""
    ip = request.remote_addr if has_request_context() else None
    event = AuditEvent(
        actor_id=getattr(actor, "id", actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        ip=ip,
        details=details,
    )
    db.session.add(event)
    return event
