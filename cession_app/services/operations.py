"""Service operations and the rights rules behind them."""

from collections import OrderedDict

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..models import Service


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


def services_by_case(account_id):
    """The account's services (as owner or payer), grouped by business case (domain)."""
    query = (
        select(Service)
        .where(or_(Service.owner_id == account_id, Service.payer_id == account_id))
        .options(
            selectinload(Service.payment_requests),
            selectinload(Service.payer),
            selectinload(Service.owner),
        )
        .order_by(Service.domain, Service.kind, Service.id)
    )
    cases = OrderedDict()
    for service in db.session.scalars(query):
        cases.setdefault(service.domain, []).append(service)
    return cases


def open_payment_requests(service):
    """The service's issued, unpaid payment requests."""
    return [pr for pr in service.payment_requests if pr.is_open]


def terminate(service, actor):
    """Start the termination of a service (owner only; caller checks the right)."""
    service.state = "terminating"
    service.auto_renew = False
    audit.record("service_terminated", "service", service.external_id, actor=actor)
    db.session.commit()


def set_auto_renew(service, enabled, actor):
    """Switch auto-renew on or off (owner only; caller checks the right)."""
    service.auto_renew = enabled
    audit.record("service_changed", "service", service.external_id, actor=actor, auto_renew=enabled)
    db.session.commit()
