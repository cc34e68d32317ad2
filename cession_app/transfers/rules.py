"""Pure eligibility rules: each returns the reasons why something may not happen.

No database access here: callers pass the model objects and the facts (open requests,
today's date), so the same rules run in the wizard, at submit and at execution.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from ..i18n import fmt_date, fmt_money, lazy_ngettext
from ..i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Reason:
    """Why a service cannot move (or a request cannot be made); ``text`` is translated."""

    code: str
    text: object
    payment_request: object = field(default=None, compare=False)

    def __str__(self):
        return str(self.text)


def _unpaid_reason(pr):
    return Reason(
        "unpaid",
        _l(
            "A payment request of %(amount)s, due on %(due)s, has been issued and is not paid."
            " Moving the service now would shorten the time to pay and endanger its renewal."
            " Please pay it first; once the payment has arrived, the service can be transferred.",
            amount=fmt_money(pr.amount, pr.currency),
            due=fmt_date(pr.due_on),
        ),
        payment_request=pr,
    )


def _handover_reason(pr):
    return Reason(
        "unpaid_handover",
        _l(
            "A payment request of %(amount)s, due on %(due)s, is not paid. It can be paid"
            " first, or the new payer can take it over with the transfer: then change the"
            " payer and tick that the new payer takes over the unpaid payment requests.",
            amount=fmt_money(pr.amount, pr.currency),
            due=fmt_date(pr.due_on),
        ),
        payment_request=pr,
    )


def service_reasons(service, *, locked=False, handover=False):
    """Why ``service`` cannot be put into a transfer request right now (empty: it can).

    With ``handover`` (a provider setting), an unpaid payment request is a reason that the
    new payer's taking it over removes (``unpaid_handover``) rather than a block.
    """
    reasons = []
    if service.state in ("expired", "terminating"):
        reasons.append(
            Reason(
                "expired",
                _l(
                    "This service has expired or is being terminated, so it cannot be"
                    " transferred. Its owner must renew it first."
                ),
            )
        )
    unpaid = _handover_reason if handover else _unpaid_reason
    reasons.extend(unpaid(pr) for pr in service.payment_requests if pr.is_open)
    if locked:
        reasons.append(
            Reason(
                "locked",
                _l(
                    "This service is already part of an open transfer request. It can be"
                    " requested again when that request ends."
                ),
            )
        )
    return reasons


def ownership_reasons(service, *, direction, initiator_id, other_id):
    """Only an owner's own services can be pushed; a pull takes the other party's services."""
    expected_owner = initiator_id if direction == "push" else other_id
    if service.owner_id == expected_owner:
        return []
    if direction == "push":
        text = _l("Only the owner of a service can transfer it to another customer.")
    else:
        text = _l("This service does not belong to the customer you are taking it from.")
    return [Reason("not_owner", text)]


def counterparty_reasons(initiator, other):
    """One message for unknown, mismatched and own accounts: it never reveals which."""
    if other is None or other.id == initiator.id:
        return [
            Reason(
                "counterparty",
                _l(
                    "We could not find another customer account with these details."
                    " Please check them with the other customer."
                ),
            )
        ]
    return []


def change_roles(change, direction, initiator_id, other_id, service):
    """The owner and payer a service will have after the transfer (new_owner, new_payer)."""
    target = other_id if direction == "push" else initiator_id
    new_owner = target if change in ("both", "owner") else service.owner_id
    new_payer = target if change in ("both", "payer") else service.payer_id
    return new_owner, new_payer


def parties(items):
    """Who confirms and who is only told, from (service, new_owner, new_payer) triples.

    Returns {account_id: (roles, must_confirm)}. The current owner, the account gaining
    ownership and the account gaining the payer role confirm, each account once; an
    account that only loses the payer role is only notified.
    """
    roles = {}
    for service, new_owner, new_payer in items:
        if new_owner != service.owner_id:
            roles.setdefault(service.owner_id, set()).add("owner_from")
            roles.setdefault(new_owner, set()).add("owner_to")
        if new_payer != service.payer_id:
            roles.setdefault(service.payer_id, set()).add("payer_from")
            roles.setdefault(new_payer, set()).add("payer_to")
            # Changing only the payer still needs the owner's consent.
            roles.setdefault(service.owner_id, set()).add("owner")
    confirming = {"owner_from", "owner_to", "payer_to", "owner"}
    return {
        account_id: (sorted(account_roles), bool(account_roles & confirming))
        for account_id, account_roles in roles.items()
    }


def change_reasons(change, direction, initiator_id, other_id, service):
    """A service whose owner and payer would both stay as they are has nothing to transfer."""
    new_owner, new_payer = change_roles(change, direction, initiator_id, other_id, service)
    if new_owner == service.owner_id and new_payer == service.payer_id:
        return [
            Reason(
                "no_change",
                _l(
                    "Nothing would change for this service: the roles you chose already"
                    " belong to that account."
                ),
            )
        ]
    return []


# ---------------------------------------------------------------- several business cases
def empty_case_reason(domain):
    """A business case of the request with no service chosen."""
    return Reason(
        "no_services",
        _l(
            "Please choose at least one service of %(domain)s, or remove that domain"
            " from the request.",
            domain=domain,
        ),
    )


def too_many_cases_reason(limit):
    """A request holds at most ``limit`` business cases."""
    text = lazy_ngettext(
        "A request can hold %(num)d domain at most. Please make another request for the rest.",
        "A request can hold %(num)d domains at most. Please make another request for the rest.",
        limit,
    )
    return Reason("too_many_cases", text)


def moving_domains(services, change):
    """The domains whose domain service changes owner (their registry holder may change too)."""
    if change not in ("both", "owner"):
        return []
    return list(dict.fromkeys(s.domain for s in services if s.kind == "domain"))


def added_case_reasons(domain, domains, services, movable, direction="pull"):
    """Why a further business case cannot join the request (empty: it can).

    ``domains``: the cases already in it; ``services``: the case's services the other party
    (pull) or the initiator (push) owns; ``movable``: the ids of those that may be chosen.
    """
    if domain in domains:
        text = _l("%(domain)s is already part of this request.", domain=domain)
        return [Reason("duplicate_case", text)]
    if not services and direction == "push":
        text = _l(
            "You own no services of %(domain)s, so the domain cannot be added.", domain=domain
        )
        return [Reason("no_case", text)]
    if not services:
        text = _l(
            "No services of %(domain)s belong to this customer, so the domain cannot be added."
            " Only business cases of the same customer can join one request.",
            domain=domain,
        )
        return [Reason("no_case", text)]
    if not any(s.id in movable for s in services):
        text = _l(
            "None of the services of %(domain)s can be transferred right now, so the domain"
            " cannot be added. Each service says why:",
            domain=domain,
        )
        return [Reason("nothing_movable", text)]
    return []


# ---------------------------------------------------------------- a scheduled date
SCHEDULE_MAX_DAYS = 90


def schedule_reasons(day, today):
    """A request may take effect on a day from today up to 90 days ahead (None: at once)."""
    if day is None or today <= day <= today + timedelta(days=SCHEDULE_MAX_DAYS):
        return []
    return [
        Reason(
            "schedule",
            _l(
                "Please choose a day from %(first)s to %(last)s, or leave the field empty"
                " for the transfer to take effect as soon as everyone has confirmed.",
                first=fmt_date(today),
                last=fmt_date(today + timedelta(days=SCHEDULE_MAX_DAYS)),
            ),
        )
    ]


def scheduled_later(request, today):
    """True when a request waits for its day (confirmed or not)."""
    return request.execute_on is not None and request.execute_on > today


# ---------------------------------------------------------------- protection settings
def outgoing_locked(account, now):
    """True while the account's lock on outgoing transfers holds (an unlock waits a day)."""
    unlock_at = account.outgoing_unlock_at
    return bool(account.outgoing_locked) and (unlock_at is None or now < unlock_at)


def protection_reasons(service, owner, *, now, lock_days):
    """Why a new request may not take ``service`` out of ``owner``'s account right now."""
    reasons = []
    if outgoing_locked(owner, now):
        reasons.append(
            Reason(
                "outgoing_locked",
                _l(
                    "Its owner has locked transfers out of the account in the protection"
                    " settings. It can be requested once the owner unlocks them."
                ),
            )
        )
    if lock_days and service.moved_at is not None:
        until = service.moved_at + timedelta(days=lock_days)
        if now < until:
            reasons.append(
                Reason(
                    "recently_moved",
                    _l(
                        "This service changed owner on %(moved)s. It can be transferred"
                        " again from %(until)s.",
                        moved=fmt_date(service.moved_at),
                        until=fmt_date(until),
                    ),
                )
            )
    return reasons


def auto_accept_codes(text):
    """The customer codes of an auto-accept list, lower case, in their order, once each."""
    return list(dict.fromkeys(code.lower() for code in (text or "").replace(",", " ").split()))


def accepts_automatically(account, roles, from_code):
    """True when ``account`` only gains services in a request from an account it listed."""
    receiving = {"owner_to", "payer_to"}
    listed = auto_accept_codes(account.auto_accept_from)
    return bool(roles) and set(roles) <= receiving and from_code.lower() in listed


# ---------------------------------------------------------------- handing over payments
def payer_changes(change):
    """True when the request's change moves the payer role."""
    return change in ("both", "payer")


def without_handed_over(reasons, accepted, change):
    """The reasons left when the new payer takes over the payment requests in ``accepted``
    (their external ids): only a change of payer can hand a payment request over."""
    if not payer_changes(change):
        return reasons
    return [
        r
        for r in reasons
        if not (r.code == "unpaid_handover" and r.payment_request.external_id in accepted)
    ]
