"""My services as rows ready to show: what each row needs is worked out once per page.

A page lists many services; in the template every label function, filter, macro call and
attribute costs dozens of Python calls per row. Here the labels are translated once per
kind and role, URLs are joined from one prefix, dates are formatted by the cached
formatter, and a row without an open request or an unpaid payment request takes its
badges (the ``_badges.html`` macro, the same one the service page shows) from the row
before it in the same state. The template shows the results as they are.
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
    open_requests = operations.open_requests(s.id for ss in cases.values() for s in ss)
    badges = get_template_attribute("_badges.html", "service_badges")
    prefix = url_for("services.index")
    kinds, roles, plain_badges = {}, {}, {}
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
            if open_request is None and not unpaid:  # the badges depend on the state alone
                if s.state not in plain_badges:
                    plain_badges[s.state] = badges(s, None, unpaid, account_id)
                row.badges = plain_badges[s.state]
            else:
                row.badges = badges(s, open_request, unpaid, account_id)
            row.manage = operations.may_manage(account_id, s)
            row.locked = open_request is not None
            case.owned = case.owned or s.owner_id == account_id
            case.rows.append(row)
        found.append(case)
    return found
