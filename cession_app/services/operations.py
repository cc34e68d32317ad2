"""Service operations and the rights rules behind them."""

from sqlalchemy import select, true
from sqlalchemy.orm import lazyload, selectinload

from .. import audit, blocking
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import TransferItem, TransferParty, TransferRequest


class TerminationRefused(Exception):
    """The service cannot be terminated now; ``reasons`` says why (translated)."""

    def __init__(self, reasons):
        super().__init__("termination refused")
        self.reasons = reasons


def roles_of(account_id, service):
    """The account's roles in a service: owner, payer, or both."""
    roles = []
    if service.owner_id == account_id:
        roles.append("owner")
    if service.payer_id == account_id:
        roles.append("payer")
    return roles


def may_manage(account_id, service):
    """Only the owner may terminate a service or change its parameters."""
    return service.owner_id == account_id


def open_payment_requests(service):
    """The service's issued, unpaid payment requests."""
    return [pr for pr in service.payment_requests if pr.is_open]


def open_requests(service_ids):
    """{service id: the open transfer request it is locked in} for ``service_ids``."""
    ids = list(service_ids)
    if not ids:
        return {}
    query = (
        select(TransferItem.service_id, TransferRequest)
        .join(TransferRequest, TransferItem.request_id == TransferRequest.id)
        .where(TransferItem.active == true(), TransferItem.service_id.in_(ids))
        # The badges ask only who the parties are: no items, tasks or accounts loaded.
        .options(
            lazyload(TransferRequest.items),
            lazyload(TransferRequest.holder_changes),
            selectinload(TransferRequest.parties).lazyload(TransferParty.account),
        )
    )
    return {service_id: request for service_id, request in db.session.execute(query)}


class OpenRequestMark:
    """What the badges of a list show of an open request: its number, and whether the
    reader is one of its parties (``party_for`` answers as the request's does)."""

    __slots__ = ("id", "_viewer", "_party")

    def __init__(self, request_id, viewer_id, party):
        self.id, self._viewer, self._party = request_id, viewer_id, party

    @property
    def key(self):
        """What the badges show of it: two marks with the same key show the same."""
        return (self.id, self._party)

    def party_for(self, account_id):
        """True when ``account_id`` is the reader and a party of the request, else None."""
        return True if account_id == self._viewer and self._party else None


def termination_reasons(service, *, open_request=None):
    """Why ``service`` cannot be terminated now (empty: it can); a pure rule."""
    if service.state == "terminating":
        return [_l("This service is already being terminated.")]
    if open_request is not None:
        return [
            _l(
                "This service is part of an open transfer request (number %(number)s)."
                " It can be terminated when that request ends.",
                number=open_request.id,
            )
        ]
    return []


def terminate(service, actor):
    """Start the termination of a service (owner only; caller checks the right).

    Refused (TerminationRefused) while it is being terminated or locked in an open request.
    """
    reasons = termination_reasons(service, open_request=open_requests([service.id]).get(service.id))
    if reasons:
        raise TerminationRefused(reasons)
    before = {service.external_id: blocking.blocks_of(service)}
    service.state = "terminating"
    service.auto_renew = False
    audit.record("service_terminated", "service", service.external_id, actor=actor)
    blocking.record_changes(before, {service.external_id: blocking.blocks_of(service)})
    db.session.commit()


def set_auto_renew(service, enabled, actor):
    """Switch auto-renew on or off (owner only; caller checks the right)."""
    service.auto_renew = enabled
    audit.record("service_changed", "service", service.external_id, actor=actor, auto_renew=enabled)
    db.session.commit()
