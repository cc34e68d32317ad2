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

import re
from collections import OrderedDict
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from flask import get_template_attribute, url_for
from jinja2.utils import url_quote
from markupsafe import escape
from sqlalchemy import and_, bindparam, or_, select, true

from ..extensions import db
from ..html import safe_html
from ..i18n import date_formatter
from ..labels import kind_label, role_label
from ..models import PaymentRequest, Service, TransferItem, TransferParty
from ..models.accounts import accounts_by_id
from . import operations
from .operations import OpenRequestMark


class ListedService:
    """A service as My services shows it, read without the ORM (50 services are 50 rows,
    not 50 objects with their history): its columns, its owner and payer when they are
    not the reader (else None), the open request it is locked in (``OpenRequestMark``, or
    None) and its unpaid payment requests (``UnpaidRow``)."""

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
        "open_request",
        "payment_requests",
    )
    COLUMNS = __slots__[:8]

    def __init__(self, account_id, id, external_id, domain, kind, owner_id, payer_id, *rest):
        """From a row of ``_SERVICES`` (its columns, then the open request's id and the
        reader's party id) for the reader ``account_id``: one call, no loop per column."""
        self.id, self.external_id, self.domain, self.kind = id, external_id, domain, kind
        self.owner_id, self.payer_id = owner_id, payer_id
        self.expires_on, self.state, request_id, party_id = rest
        self.open_request = (
            None
            if request_id is None
            else OpenRequestMark(request_id, account_id, party_id is not None)
        )
        self.owner = self.payer = None
        self.payment_requests = []


class UnpaidRow(NamedTuple):
    """An unpaid payment request of a listed service, with what its badge shows."""

    service_id: int
    external_id: str
    payer_id: int | None
    amount: Decimal
    currency: str
    due_on: date


def _services_statement():
    """The reader's services with the open request each is locked in, whether the reader
    is one of its parties (a service is in one open request at most; an account is a
    request's party once) and its unpaid payment requests: one row a service and unpaid
    payment request (one for a service without any), the reader's id bound as ``account``.
    """
    table, item, party = Service.__table__, TransferItem.__table__, TransferParty.__table__
    pr = PaymentRequest.__table__
    account = bindparam("account")
    return (
        select(
            *(table.c[name] for name in ListedService.COLUMNS),
            item.c.request_id,
            party.c.id,
            *(pr.c[name] for name in UnpaidRow._fields[1:]),
        )
        .outerjoin(item, and_(item.c.service_id == table.c.id, item.c.active == true()))
        .outerjoin(
            party, and_(party.c.request_id == item.c.request_id, party.c.account_id == account)
        )
        .outerjoin(
            pr,
            and_(
                pr.c.service_id == table.c.id, pr.c.paid_on.is_(None), pr.c.cancelled_on.is_(None)
            ),
        )
        .where(or_(table.c.owner_id == account, table.c.payer_id == account))
        # a service's unpaid payment requests the oldest first
        .order_by(table.c.domain, table.c.kind, table.c.id, pr.c.issued_on, pr.c.id)
    )


# Built once: its SQL is compiled and cached once too.
_SERVICES = _services_statement()
_WIDTH = len(ListedService.COLUMNS) + 2  # a row's service (and open request) columns


def services_by_case(account_id):
    """The account's services (as owner or payer) as ``ListedService``, grouped by business
    case (domain): the services with their open requests and unpaid payment requests, in
    one statement, then other owners and payers only when there are some."""
    services = []
    service = None
    # .all(): every row in one fetch (iterating a result fetches row by row, which costs
    # psycopg five Python calls a row)
    for row in db.session.execute(_SERVICES, {"account": account_id}).all():
        if service is None or service.id != row[0]:
            service = ListedService(account_id, *row[:_WIDTH])
            services.append(service)
        if row[_WIDTH] is not None:  # None: a service without unpaid payment requests
            service.payment_requests.append(UnpaidRow(service.id, *row[_WIDTH:]))
    ids = ({s.owner_id for s in services} | {s.payer_id for s in services}) - {account_id}
    if ids:
        people = accounts_by_id(ids)
        for service in services:
            service.owner = people.get(service.owner_id)
            service.payer = people.get(service.payer_id)
    cases = OrderedDict()
    for service in services:
        cases.setdefault(service.domain, []).append(service)
    return cases


class Case:
    """A business case (domain): its rows, and whether the reader owns one of them.

    A row is a tuple the template unpacks in its loop (no attribute look-up per value),
    its text already escaped once (Markup, which the template's escaper passes as it is):
    the external id, the URL, the kind, the reader's roles, the owner's and the payer's
    names when they are not the reader (else None), the expiry date, the state, the
    badges, and whether the reader may manage it, it is locked in an open request, and
    it may be terminated."""

    __slots__ = ("domain", "rows", "owned", "transfer_url")

    def __init__(self, domain):
        self.domain, self.rows, self.owned, self.transfer_url = domain, [], False, None


# What ``url_quote`` leaves as it is (most external ids): such an id is not quoted again.
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*").fullmatch
# A domain that ``url_for`` writes as it is in a query string.
_QUERY_SAFE = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch
_MARK = "0domain0"


def _transfer_url(domain, template):
    """The URL of the transfer page for ``domain`` (``url_for``'s), joined from
    ``template`` (that URL for ``_MARK``) when the domain needs no quoting."""
    if _QUERY_SAFE(domain):
        return template.replace(_MARK, domain)
    return url_for("transfers.index", domain=domain)


# A request number no request has: the badges of a state and an open request are written
# once with it, then each open request's number put in its place.
_NUMBER = 987654321987
_NUMBER_TEXT = str(_NUMBER)


def _numbered(shared, badges, service, open_request, account_id):
    """The badges of a service without unpaid payment requests: those of its state and
    the open request (whether the reader is its party) with the request's number."""
    if open_request is None:
        return badges(service, None, (), account_id)
    key = (service.state, "any", open_request.key[1])
    written = shared.get(key)
    if written is None:
        mark = operations.OpenRequestMark(_NUMBER, account_id, open_request.key[1])
        written = shared[key] = badges(service, mark, (), account_id)
    return written.replace(_NUMBER_TEXT, str(open_request.id))


def my_services(account_id):
    """The cases of ``account_id``'s services, each with its rows (see module and Case)."""
    cases = services_by_case(account_id)
    badges = get_template_attribute("_badges.html", "service_badges")
    prefix = url_for("services.index")
    transfer_template = url_for("transfers.index", domain=_MARK)
    plain_urls = _URL_SAFE(prefix) is not None
    kinds, roles, states, dates, shared_badges = {}, {}, {}, {}, {}
    fmt_date = date_formatter()
    found = []
    for domain, services in cases.items():
        case = Case(domain)
        append = case.rows.append
        for s in services:
            external_id = s.external_id
            if plain_urls and _URL_SAFE(external_id):  # nothing to quote or escape
                shown_id = safe_html(external_id)
                url = safe_html(prefix + external_id)
            else:
                shown_id, url = escape(external_id), escape(prefix + url_quote(external_id))
            expires = dates.get(s.expires_on)
            if expires is None:
                expires = dates[s.expires_on] = escape(fmt_date(s.expires_on))
            kind = kinds.get(s.kind)
            if kind is None:
                kind = kinds[s.kind] = escape(str(kind_label(s.kind)))
            owner_id, payer_id, state = s.owner_id, s.payer_id, s.state
            mine = (owner_id == account_id, payer_id == account_id)
            shown_roles = roles.get(mine)
            if shown_roles is None:
                shown_roles = roles[mine] = escape(
                    ", ".join(str(role_label(r)) for r in operations.roles_of(account_id, s))
                )
            shown_state = states.get(state)
            if shown_state is None:
                shown_state = states[state] = escape(state)
            open_request = s.open_request
            unpaid = s.payment_requests  # the unpaid ones only
            if not unpaid:  # the badges depend on the state and the open request alone
                key = (state, open_request and open_request.key)
                shown_badges = shared_badges.get(key)
                if shown_badges is None:
                    shown_badges = shared_badges[key] = _numbered(
                        shared_badges, badges, s, open_request, account_id
                    )
            else:
                shown_badges = badges(s, open_request, unpaid, account_id)
            manage = operations.may_manage(account_id, s)
            case.owned = case.owned or mine[0]
            append(
                (
                    shown_id,
                    url,
                    kind,
                    shown_roles,
                    None if mine[0] else s.owner.name,
                    None if mine[1] else s.payer.name,
                    expires,
                    shown_state,
                    shown_badges,
                    manage,
                    open_request is not None,
                    state != "terminating",
                )
            )
        if case.owned:
            case.transfer_url = _transfer_url(domain, transfer_template)
        found.append(case)
    return found
