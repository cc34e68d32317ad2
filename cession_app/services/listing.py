"""My services as rows ready to show: what each row needs is worked out once per page.

A page lists many services; in the template every label function, filter, macro call and
attribute costs dozens of Python calls per row. Here the labels are translated once per
kind and role, URLs are joined from one prefix, dates are formatted by the cached
formatter, and a row without an unpaid payment request takes its badges (the
``_badges.html`` macro, the same one the service page shows) from an earlier row in the
same state and the same open request (or none), if there is one. The template shows the
results as they are.
"""

from flask import get_template_attribute, url_for
from jinja2.utils import url_quote

from ..i18n import fmt_date
from ..labels import kind_label, role_label
from . import operations


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
    cases = operations.services_by_case(account_id)
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
            unpaid = operations.open_payment_requests(s)
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
