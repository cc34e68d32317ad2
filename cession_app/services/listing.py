"""My services as rows ready to show: what each row needs is worked out once per page.

A page lists many services; in the template every label function, filter, macro call and
attribute costs dozens of Python calls per row, and each ORM object costs more than its
row. The services are read as rows (``ListedService``), with only their unpaid payment
requests. Here the labels are translated once per kind and role, URLs are joined from one
prefix, dates are formatted by the cached formatter, and a row without an unpaid payment
request takes its badges (the ``_badges.html`` macro, the same one the service page shows)
from an earlier row in the same state and the same open request (or none), if there is
one. The template shows the results as they are.
"""

from collections import OrderedDict

from flask import get_template_attribute, url_for
from jinja2.utils import url_quote
from sqlalchemy import or_, select

from ..extensions import db
from ..i18n import fmt_date
from ..labels import kind_label, role_label
from ..models import Account, PaymentRequest, Service
from . import operations


class ListedService:
    """A service as My services shows it, read without the ORM (50 services are 50 rows,
    not 50 objects with their history): its columns, its owner and payer when they are
    not the reader (else None), and its unpaid payment requests."""

    __slots__ = (
        "id",
        "external_id",
        "domain",
        "kind",
        "owner_id",
        "payer_id",
        "expires_on",
        "state",
        "owner",
        "payer",
        "payment_requests",
    )
    COLUMNS = __slots__[:8]


def services_by_case(account_id):
    """The account's services (as owner or payer) as ``ListedService``, grouped by business
    case (domain): three statements (services, other owners and payers, unpaid payment
    requests), whatever the number of services."""
    table = Service.__table__
    rows = db.session.execute(
        select(*(table.c[name] for name in ListedService.COLUMNS))
        .where(or_(table.c.owner_id == account_id, table.c.payer_id == account_id))
        .order_by(table.c.domain, table.c.kind, table.c.id)
    ).all()
    services = []
    for row in rows:
        service = ListedService()
        for name, value in zip(ListedService.COLUMNS, row, strict=True):
            setattr(service, name, value)
        service.owner = service.payer = None
        service.payment_requests = []
        services.append(service)
    ids = ({s.owner_id for s in services} | {s.payer_id for s in services}) - {account_id}
    if ids:
        people = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))}
        for service in services:
            service.owner = people.get(service.owner_id)
            service.payer = people.get(service.payer_id)
    if services:
        by_id = {s.id: s for s in services}
        unpaid = db.session.scalars(
            select(PaymentRequest)
            .where(PaymentRequest.service_id.in_(list(by_id)), PaymentRequest.open_clause())
            .order_by(PaymentRequest.issued_on, PaymentRequest.id)
        )
        for pr in unpaid:
            by_id[pr.service_id].payment_requests.append(pr)
    cases = OrderedDict()
    for service in services:
        cases.setdefault(service.domain, []).append(service)
    return cases


class ServiceRow:
    """One row of My services: the service and what the row shows of it."""

    __slots__ = ("service", "url", "kind", "roles", "expires", "badges", "manage", "locked")


class Case:
    """A business case (domain): its rows, and whether the reader owns one of them."""

    __slots__ = ("domain", "rows", "owned")

    def __init__(self, domain):
        self.domain, self.rows, self.owned = domain, [], False


def my_services(account_id):
    """The cases of ``account_id``'s services, each with its rows (see module)."""
    cases = services_by_case(account_id)
    ids = (s.id for services in cases.values() for s in services)
    open_requests = operations.open_request_marks(ids, account_id)
    badges = get_template_attribute("_badges.html", "service_badges")
    prefix = url_for("services.index")
    kinds, roles, shared_badges = {}, {}, {}
    found = []
    for domain, services in cases.items():
        case = Case(domain)
        for s in services:
            row = ServiceRow()
            row.service = s
            row.url = prefix + url_quote(s.external_id)
            if s.kind not in kinds:
                kinds[s.kind] = str(kind_label(s.kind))
            row.kind = kinds[s.kind]
            mine = tuple(operations.roles_of(account_id, s))
            if mine not in roles:
                roles[mine] = ", ".join(str(role_label(r)) for r in mine)
            row.roles = roles[mine]
            row.expires = fmt_date(s.expires_on)
            open_request = open_requests.get(s.id)
            unpaid = s.payment_requests  # the unpaid ones only
            if not unpaid:  # the badges depend on the state and the open request alone
                key = (s.state, open_request and open_request.key)
                if key not in shared_badges:
                    shared_badges[key] = badges(s, open_request, unpaid, account_id)
                row.badges = shared_badges[key]
            else:
                row.badges = badges(s, open_request, unpaid, account_id)
            row.manage = operations.may_manage(account_id, s)
            row.locked = open_request is not None
            case.owned = case.owned or s.owner_id == account_id
            case.rows.append(row)
        found.append(case)
    return found
