"""The two transfer wizards: one form per step, and the run's state kept on the server side.

A wizard run lives in the (signed) session under a random id; hidden fields are never
trusted. Every step re-reads the database and re-checks the rules.
"""

import secrets
import time
from dataclasses import dataclass, field

from flask import session
from sqlalchemy import bindparam, func, or_, select, union
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import paging
from ..addresses import ValidAddress
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..labels import kind_label
from ..models import Account, Service, TransferItem, TransferParty, TransferRequest
from ..models.accounts import accounts_by_id
from ..models.transfers import CHANGES
from ..widgets import Form
from . import labels, operations, rules

SESSION_KEY = "transfer_wizards"
MAX_CASES = 20  # business cases (domains) in one request
MAX_RUNS = 4  # the session is a cookie: keep only the latest few runs
STEPS = ("party", "services", "review")
STEP_TITLES = {
    "party": _l("Business case and other customer"),
    "services": _l("Services and what changes"),
    "review": _l("Review and submit"),
}
DIRECTION_TITLES = {
    "push": _l("Transfer services to another customer"),
    "pull": _l("Transfer services to my account"),
}
DIRECTION_HINTS = {
    "push": _l(
        "You own the services and hand them over: the customer who takes them over"
        " confirms by e-mail, and so do you."
    ),
    "pull": _l(
        "Another customer owns the services and you take them over: you need its customer"
        " code, and both of you confirm by e-mail."
    ),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _domain(value):
    return value.strip().lower().rstrip(".") if isinstance(value, str) else value


# ---------------------------------------------------------------- step forms
class PartyForm(Form):
    """Step 1: the business case (its domain) and the other customer."""

    domain = StringField(
        _l("Domain of the business case"),
        validators=[InputRequired(_l("Please enter the domain.")), Length(max=253)],
        filters=[_domain],
        description=_l("The domain name the services are set up for, e.g. novak.cz."),
    )
    code = StringField(
        _l("Customer code"),
        validators=[Length(max=32)],
        filters=[_strip],
        description=_l(
            "The other customer sees it at the top right of the customer panel,"
            " in parentheses next to the Log out button (e.g. egeelhil8)."
        ),
    )
    login = StringField(
        _l("Login name"),
        validators=[Length(max=64)],
        filters=[_strip],
        description=_l("The name the other customer logs in with."),
    )
    number = StringField(
        _l("Customer number"),
        validators=[Length(max=32)],
        filters=[_strip],
        description=_l("Shown to the other customer on its My data page."),
    )
    next = SubmitField(_l("Next"))

    def validate(self, extra_validators=None):
        """Either the customer code, or both the login name and the customer number."""
        if not super().validate(extra_validators):
            return False
        if self.code.data:
            return True
        if self.login.data and self.number.data:
            return True
        if self.login.data or self.number.data:
            missing = self.number if self.login.data else self.login
            missing.errors.append(_l("Please enter both the login name and the customer number."))
        else:
            self.code.errors.append(
                _l("Please enter the customer code, or the login name and the customer number.")
            )
        return False


class ServicesForm(Form):
    """Step 2: which services move, what changes, who else is told."""

    services = SelectMultipleField(
        _l("Services to transfer"),
        coerce=int,
        validate_choice=False,  # checked against the case's services in selection_problems
    )
    change = RadioField(
        _l("What changes"),
        choices=[SelectChoice(key, label) for key, label in labels.CHANGES.items()],
        default="both",
    )
    notify_email = StringField(
        _l("Extra e-mail address to notify (optional)"),
        validators=[
            Optional(),
            ValidAddress(),
        ],
        filters=[_strip],
        description=_l(
            "This address is only told about the transfer and its result;"
            " it does not confirm anything."
        ),
    )
    take_over_payments = BooleanField(
        _l("The new payer takes over the unpaid payment requests of the chosen services"),
        description=_l(
            "The new payer must accept them when confirming. At the transfer each is"
            " cancelled and issued anew to the new payer, due no earlier than the old one."
        ),
    )
    select_all = SubmitField(_l("Select all that can move"))
    add_domain = SubmitField(_l("Add another domain of this customer"))
    # Set by the "Remove" button of a further business case (its value: the domain).
    remove_domain = StringField(filters=[_domain])
    back = SubmitField(_l("Back"))
    next = SubmitField(_l("Next"))


class AddDomainForm(Form):
    """A further business case of the same other customer, for the same request."""

    domain = StringField(
        _l("Domain of another business case"),
        validators=[InputRequired(_l("Please enter the domain.")), Length(max=253)],
        filters=[_domain],
        description=_l(
            "Its services are listed next to those chosen so far, each with its own choice."
            " Everyone involved still confirms once, for the whole request."
        ),
    )
    add = SubmitField(_l("Add the domain"))


class ReviewForm(Form):
    """Step 3: when it takes effect; submit the request (or go back)."""

    execute_on = DateField(
        _l("Day the transfer takes effect (optional)"),
        validators=[Optional()],
        description=_l(
            "For example the first day of the next billing period, up to 90 days ahead."
            " Leave it empty for the transfer to take effect as soon as everyone has"
            " confirmed. The services stay in this request until then."
        ),
    )
    holder_change = BooleanField(
        _l("Also change the domain holder in the registry (WHOIS) to the new owner"),
        description=_l(
            "After the transfer the provider's staff arrange it with the registry, as its"
            " rules require; the request's page shows how it goes."
        ),
    )
    # Several moving domains: one tick per domain (rendered as checkboxes by the template).
    holder_domains = SelectMultipleField(
        _l("Also change the domain holder in the registry (WHOIS) to the new owner for"),
        validate_choice=False,  # only moving domains are kept (operations.create_request)
        description=_l(
            "After the transfer the provider's staff arrange it with the registry, as its"
            " rules require; the request's page shows how it goes."
        ),
    )
    back = SubmitField(_l("Back"))
    submit = SubmitField(_l("Submit, free of charge"))

    def validate_execute_on(self, field):
        reasons = rules.schedule_reasons(field.data, operations.provider_today())
        if reasons:
            raise ValidationError(str(reasons[0]))


# ---------------------------------------------------------------- run state
def _runs():
    return dict(session.get(SESSION_KEY) or {})


def new_run(account, direction):
    """Start a run for ``account``; returns (run id, state)."""
    runs = _runs()
    oldest_first = sorted(runs, key=lambda k: runs[k].get("started", 0))
    for old in oldest_first[: max(0, len(runs) - MAX_RUNS + 1)]:
        runs.pop(old)
    run_id = secrets.token_urlsafe(9)
    state = {
        "account_id": account.id,
        "direction": direction,
        "started": time.time(),
        "submit_key": secrets.token_hex(16),
        "domain": "",
        "more_domains": [],
        "code": "",
        "login": "",
        "number": "",
        "other_id": None,
        "service_ids": [],
        "change": "both",
        "notify_email": "",
        "take_over_payments": False,
        "request_id": None,
    }
    runs[run_id] = state
    session[SESSION_KEY] = runs
    return run_id, state


def load_run(run_id, account):
    """The state of ``account``'s run, or None when unknown (expired, other account)."""
    state = _runs().get(run_id)
    if not state or state.get("account_id") != account.id:
        return None
    return dict(state)


def save_run(run_id, state):
    """Store the run's state."""
    runs = _runs()
    runs[run_id] = state
    session[SESSION_KEY] = runs


def set_party(state, form, other):
    """Keep step 1's values; a new case or other customer clears the chosen services."""
    if (state["domain"], state["other_id"]) != (form.domain.data, other.id):
        state["service_ids"] = []
        state["more_domains"] = []
    state.update(
        domain=form.domain.data,
        code=form.code.data or "",
        login=form.login.data or "",
        number=form.number.data or "",
        other_id=other.id,
    )


def domains_of(state):
    """The run's business cases, the first one first."""
    return [state["domain"], *state.get("more_domains", [])]


def add_domain(state, domain):
    """A further business case joins the run."""
    state["more_domains"] = [*state.get("more_domains", []), domain]


def remove_domain(state, domain, case):
    """A further business case leaves the run, with the services chosen of it."""
    if domain not in state.get("more_domains", []):
        return  # the first business case is changed on step 1
    state["more_domains"] = [d for d in state.get("more_domains", []) if d != domain]
    gone = {s.id for s in case.services if s.domain == domain}
    state["service_ids"] = [sid for sid in state["service_ids"] if sid not in gone]


def keep_selection(state, form, movable_ids):
    """Keep step 2's valid values (also on Back): services that may move, a known change,
    the address to notify only when its field's validators accept it.

    Returns False when the address entered was not kept.
    """
    chosen = form.services.data or []
    state["service_ids"] = [sid for sid in chosen if sid in movable_ids]
    state["change"] = form.change.data if form.change.data in CHANGES else "both"
    state["take_over_payments"] = bool(form.take_over_payments.data)
    valid = _field_valid(form, form.notify_email)
    state["notify_email"] = (form.notify_email.data or "") if valid else ""
    return valid


def _field_valid(form, field):
    """One field checked as ``form.validate()`` checks it: its validators and the form's
    ``validate_<name>`` method, if it has one."""
    inline = getattr(type(form), f"validate_{field.name}", None)
    return field.validate(form, [inline] if inline else [])


def valid_notify_email(address):
    """Whether ``address`` (kept in a run) passes the notify field's validators again."""
    form = ServicesForm(formdata=MultiDict({"notify_email": address}), meta={"csrf": False})
    return _field_valid(form, form.notify_email)


# ---------------------------------------------------------------- checks
def find_counterparty(code, login, number):
    """The account named by its code (or by login name AND number, both matching), or None."""
    if code:
        other = db.session.scalar(select(Account).where(Account.code == code.lower()))
        if other is not None and login and other.login != login:
            return None
        if other is not None and number and other.number != number:
            return None
        return other
    if login and number:
        return db.session.scalar(
            select(Account).where(Account.login == login, Account.number == number)
        )
    return None


def party_problems(initiator, direction, domain, other):
    """Reasons why step 1 cannot go on; never reveals another account's cases.

    The pull wizard gives one message for an unknown customer and for one with no services
    of the case, so that it cannot be used to find out which customer codes exist.
    """
    too_many = operations.creation_limit_reason(initiator)
    if too_many is not None:
        return [too_many]
    problems = rules.counterparty_reasons(initiator, other)
    if direction == "pull":
        if problems or not operations.case_services(domain, other.id):
            return [rules.Reason("no_case", _pull_not_found())]
        return []
    if problems:
        return problems
    if operations.case_services(domain, initiator.id):
        return []
    text = _l(
        "You own no services of the business case %(domain)s. Only the owner of a service"
        " can transfer it to another customer; please check the domain in My services.",
        domain=domain,
    )
    return [rules.Reason("no_case", text)]


def _pull_not_found():
    return _l(
        "No services of this business case can be transferred between these accounts."
        " Please check the domain and the other customer's details."
    )


@dataclass
class Case:
    """What a step shows: the other account, the listed services, and why some cannot move."""

    direction: str
    other: object
    services: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    domains: list = field(default_factory=list)

    @property
    def groups(self):
        """[(domain, [services])], one per business case, in the run's order."""
        return [(d, [s for s in self.services if s.domain == d]) for d in self.domains]

    @property
    def movable_ids(self):
        """Ids of the services that may be chosen (an unpaid payment request the new payer
        may take over does not block the choice)."""
        return {
            s.id
            for s in self.services
            if all(r.code == "unpaid_handover" for r in self.refused.get(s, []))
        }

    @property
    def handover_possible(self):
        """True when some service has an unpaid payment request a new payer may take over."""
        return any(r.code == "unpaid_handover" for rs in self.refused.values() for r in rs)


def _listed_services(direction, domains, initiator_id, other_id):
    if direction == "pull":
        return operations.cases_services(domains, other_id)
    # Push: the services I own, and those I only pay (shown with why they cannot move).
    query = (
        select(Service)
        .where(
            Service.domain.in_(domains),
            or_(Service.owner_id == initiator_id, Service.payer_id == initiator_id),
        )
        .options(selectinload(Service.payment_requests))
        .order_by(Service.kind, Service.id)
    )
    return sorted(db.session.scalars(query).all(), key=lambda s: domains.index(s.domain))


def load_case(initiator, state):
    """Re-read the other account and the case's services, and check every rule again."""
    other = db.session.get(Account, state["other_id"]) if state["other_id"] else None
    problems = party_problems(initiator, state["direction"], state["domain"], other)
    if problems:
        return Case(state["direction"], other, problems=problems)
    return _case(initiator, state["direction"], other, domains_of(state))


def _case(initiator, direction, other, domains):
    services = _listed_services(direction, domains, initiator.id, other.id)
    refused = operations.check_services(
        services, direction=direction, initiator_id=initiator.id, other_id=other.id
    )
    return Case(direction, other, services, refused, domains=domains)


def added_case(initiator, state, domain):
    """The further business case ``domain`` on its own, with the reasons against adding it
    (in ``problems``): not of the same customer, already there, or nothing can move."""
    other = db.session.get(Account, state["other_id"])
    case = _case(initiator, state["direction"], other, [domain])
    owned = [
        s for s in case.services if not any(r.code == "not_owner" for r in case.refused.get(s, []))
    ]
    case.problems = rules.added_case_reasons(
        domain, domains_of(state), owned, case.movable_ids, state["direction"]
    )
    if not case.problems and len(domains_of(state)) >= MAX_CASES:
        case.problems = [rules.too_many_cases_reason(MAX_CASES)]
    return case


def more_domains_problems(initiator, state, more_domains):
    """Reasons against adding ``more_domains`` one after the other (as {service or None:
    [Reason]}; empty: all may join), as the wizard's "Add another domain" checks them."""
    for index, domain in enumerate(more_domains):
        added = added_case(initiator, {**state, "more_domains": more_domains[:index]}, domain)
        if added.problems:
            return {None: added.problems, **added.refused}
    return {}


def selection_problems(case, service_ids, change, initiator, take_over=False):
    """Reasons against the chosen services, as {service or None: [Reason]} (empty: fine)."""
    chosen = [s for s in case.services if s.id in set(service_ids)]
    accepted = set(operations.open_payment_ids(chosen, change)) if take_over else set()
    if not chosen:
        return {
            None: [
                rules.Reason(
                    "no_services", _l("Please choose at least one service of this business case.")
                )
            ]
        }
    found = {}
    empty = [d for d in case.domains if not any(s.domain == d for s in chosen)]
    if empty:
        found[None] = [rules.empty_case_reason(d) for d in empty]
    for service in chosen:
        reasons = case.refused.get(service, []) + rules.change_reasons(
            change, case.direction, initiator.id, case.other.id, service
        )
        reasons = rules.without_handed_over(reasons, accepted, change)
        if reasons:
            found[service] = reasons
    return found


# ---------------------------------------------------------------- review
@dataclass
class Summary:
    """The review step's picture of the request."""

    services: list  # (service, new_owner, new_payer) with accounts
    confirming: list  # (account, roles)
    notified: list  # (account, roles)
    handed_over: list = field(default_factory=list)  # (service, payment request, new payer)

    @property
    def moves_a_domain(self):
        """True when a domain changes owner: the registry holder may change too."""
        return bool(self.moving_domains)

    @property
    def moving_domains(self):
        """The domains whose domain service changes owner, each once."""
        found = [
            s.domain for s, o, _p in self.services if s.kind == "domain" and o.id != s.owner_id
        ]
        return list(dict.fromkeys(found))

    @property
    def groups(self):
        """[(domain, [(service, new owner, new payer)])], one per business case."""
        groups = {}
        for triple in self.services:
            groups.setdefault(triple[0].domain, []).append(triple)
        return list(groups.items())


def summarize(case, state, initiator):
    """Who gets what, and who confirms, for the chosen services."""
    chosen = [s for s in case.services if s.id in set(state["service_ids"])]
    triples = [
        (s, *rules.change_roles(state["change"], case.direction, initiator.id, case.other.id, s))
        for s in chosen
    ]
    parties = rules.parties(triples)
    ids = {a for s, o, p in triples for a in (s.owner_id, s.payer_id, o, p)}
    accounts = accounts_by_id(ids)
    services = [(s, accounts[o], accounts[p]) for s, o, p in triples]
    confirming, notified = [], []
    for account_id, (roles, must_confirm) in sorted(parties.items()):
        entry = (accounts[account_id], labels.role_names(roles))
        (confirming if must_confirm else notified).append(entry)
    handed = set(operations.open_payment_ids(chosen, state["change"]))
    handed_over = [
        (s, pr, new_payer)
        for s, _owner, new_payer in services
        for pr in s.payment_requests
        if state.get("take_over_payments") and pr.external_id in handed
    ]
    return Summary(services, confirming, notified, handed_over)


# ---------------------------------------------------------------- overview
def requests_page(account_id, page, per_page):
    """One page of the account's requests (as initiator or party), newest first, as
    ``OverviewRequest`` rows (the overview shows a few columns of each, its accounts'
    names and its ``line`` of domains and kinds): one statement for the page with its items
    and the count of all (another for the count only when the page is empty), both built
    once."""
    return paging.paginate_rows(
        _OVERVIEW, _OVERVIEW_COUNT, {"account": account_id}, _overview_requests, page, per_page
    )


class OverviewRequest:
    """A request as the overview shows it, read as rows (one per item), not as ORM objects."""

    __slots__ = (
        "id",
        "created_at",
        "domain",
        "state",
        "execute_on",
        "from_account_id",
        "to_account_id",
        "from_account",
        "to_account",
        "line",
    )
    COLUMNS = __slots__[:7]


class OverviewAccount:
    """An account as the overview names it."""

    __slots__ = ("name", "code")

    def __init__(self, name, code):
        self.name, self.code = name, code


class OverviewLine:
    """What the overview shows of a request's services: its domains (the request's, then
    its items' in their order, each once) and the kinds of its items, each as one line."""

    __slots__ = ("domains", "kinds")


def _overview_requests(rows):
    """The page's ``OverviewRequest``s from its rows: a request's rows follow each other,
    one per item (or one with no item), each with the item's domain and kind."""
    found, kinds = {}, {}
    for row in rows:
        entry = found.get(row[0])
        if entry is None:
            request = OverviewRequest()
            (
                request.id,
                request.created_at,
                request.domain,
                request.state,
                request.execute_on,
                request.from_account_id,
                request.to_account_id,
            ) = row[:7]
            request.from_account = OverviewAccount(row[7], row[8])
            request.to_account = OverviewAccount(row[9], row[10])
            entry = found[request.id] = (request, [request.domain], [])
        domain, kind = row[11], row[12]
        if kind is not None:  # None: a request without items
            entry[1].append(domain)
            if kind not in kinds:
                kinds[kind] = str(kind_label(kind))
            entry[2].append(kinds[kind])
    for request, domains, names in found.values():
        line = request.line = OverviewLine()
        line.domains = ", ".join(dict.fromkeys(domains))
        line.kinds = ", ".join(names)
    return [request for request, _domains, _names in found.values()]


def _overview_statements():
    """The page of requests with their items' domains and kinds (the page is chosen first,
    its items joined to it: one row per item; the count of all requests last), and the
    count alone."""
    account = bindparam("account")
    mine = union(
        select(TransferParty.request_id).where(TransferParty.account_id == account),
        select(TransferRequest.id).where(TransferRequest.initiator_id == account),
    )
    table = TransferRequest.__table__
    chosen = (
        select(
            *(table.c[name] for name in OverviewRequest.COLUMNS),
            func.count().over().label("total"),
        )
        .where(table.c.id.in_(mine))
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("chosen")
    )
    # The accounts, items and services of the page's requests only (joined after the page
    # is chosen: the server looks up nothing for the requests of other pages).
    source, target = Account.__table__.alias("source"), Account.__table__.alias("target")
    item, service = TransferItem.__table__, Service.__table__
    rows = (
        select(
            *(chosen.c[name] for name in OverviewRequest.COLUMNS),
            source.c.name,
            source.c.code,
            target.c.name,
            target.c.code,
            service.c.domain,
            service.c.kind,
            chosen.c.total,
        )
        .select_from(
            chosen.join(source, source.c.id == chosen.c.from_account_id)
            .join(target, target.c.id == chosen.c.to_account_id)
            .outerjoin(item, item.c.request_id == chosen.c.id)
            .outerjoin(service, service.c.id == item.c.service_id)
        )
        .order_by(chosen.c.created_at.desc(), chosen.c.id.desc(), item.c.id)
    )
    count = select(func.count()).select_from(mine.subquery())
    return rows, count


_OVERVIEW, _OVERVIEW_COUNT = _overview_statements()
