"""When a service is blocked for transfers, and the events that tell when that changes.

A service is blocked while it has an open (unpaid, not cancelled) payment request, or is
expired or being terminated: the facts behind the reasons of ``transfers.rules``. Every
operation that changes one of them (a payment request created, paid or moved; a service's
state changed: import-data and the API's PUTs, mark-paid from the CLI, API and staff pages,
termination) takes the blocks of the services it touches before the change and calls
``record_changes`` after it, in the same transaction. The audit events
``service_blocked`` and ``service_unblocked`` then reach the events feed and the webhooks.
A service created by the change itself has no "before" and gets no event.
"""

from dataclasses import dataclass

from . import audit

BLOCKING_STATES = ("expired", "terminating")


@dataclass(frozen=True, order=True)
class Block:
    """One reason a service is blocked: ``unpaid`` (with the payment request's id),
    ``expired`` or ``terminating``."""

    reason: str
    payment_request: str | None = None

    def as_json(self):
        """The block as the events show it."""
        return {"reason": self.reason, "payment_request": self.payment_request}


def blocks(state, open_payment_requests=()):
    """Why a service in ``state`` with these open payment requests (ids) is blocked (pure)."""
    found = [Block(state)] if state in BLOCKING_STATES else []
    found += [Block("unpaid", pr) for pr in sorted(open_payment_requests)]
    return tuple(found)


def blocks_of(service, without=()):
    """``blocks`` of a service, reading its payment requests; those in ``without`` (objects)
    count as no longer open (a payment being recorded)."""
    ids = [pr.external_id for pr in service.payment_requests if pr.is_open and pr not in without]
    return blocks(service.state, ids)


def changes(before, after):
    """[(event type, service id, blocks that caused it)] for services blocked or freed between
    ``before`` and ``after`` ({service id: blocks}); services missing from either: none."""
    found = []
    for service_id in sorted(before.keys() & after.keys()):
        was, now = before[service_id], after[service_id]
        if now and not was:
            found.append(("service_blocked", service_id, now))
        elif was and not now:
            found.append(("service_unblocked", service_id, was))
    return found


def record_changes(before, after):
    """An audit event (and webhook deliveries) per change; caller commits. Returns them."""
    return [
        audit.record(
            action,
            "service",
            service_id,
            service=service_id,
            reason=cause[0].reason,
            payment_request=cause[0].payment_request,
            reasons=[block.as_json() for block in cause],
        )
        for action, service_id, cause in changes(before, after)
    ]
