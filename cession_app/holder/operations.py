"""Holder-change tasks: created when a transfer moves a domain, decided by staff."""

from sqlalchemy import select

from .. import audit, paging
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import HolderChange
from ..models.base import utcnow


class HolderRefused(Exception):
    """A decision that cannot be taken; ``message`` is translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def moved_domains(items):
    """The domain services whose owner a request changes: (item, service)."""
    return [
        (item, item.service)
        for item in items
        if item.service.kind == "domain" and item.new_owner_id != item.old_owner_id
    ]


def create_tasks(request):
    """One open task per moved domain of an executed request that asked for it."""
    if not request.holder_change:
        return []
    tasks = []
    asked = request.holder_domains  # None: every moving domain
    for item, service in moved_domains(request.items):
        if asked is not None and service.domain not in asked:
            continue
        task = HolderChange(
            request_id=request.id,
            service_id=service.id,
            domain=service.domain,
            new_holder_id=item.new_owner_id,
            state="open",
        )
        db.session.add(task)
        tasks.append(task)
        audit.record("holder_change_requested", "transfer", request.id, domain=service.domain)
    return tasks


def tasks_page(state, page, per_page):
    """One page of tasks in ``state`` (all when None), the oldest open first."""
    query = select(HolderChange)
    if state:
        query = query.where(HolderChange.state == state)
    return paging.paginate(query.order_by(HolderChange.id), page, per_page)


def decide(task, state, actor, reason=""):
    """Staff mark a task done, or refused with a reason the parties read."""
    reason = (reason or "").strip()
    if task.state != "open":
        raise HolderRefused(_l("This holder change has already been decided."))
    if state == "refused" and not reason:
        raise HolderRefused(_l("Please say why the holder change is refused."))
    task.state = state
    task.reason = reason or None
    task.decided_at = utcnow()
    task.decided_by_id = actor.id
    audit.record(
        f"holder_change_{state}",
        "transfer",
        task.request_id,
        actor=actor,
        domain=task.domain,
        reason=task.reason,
    )
    db.session.commit()
