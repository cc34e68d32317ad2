"""Translated labels of transfer requests: states, directions, changes, party roles."""

from flask_babel import ngettext
from markupsafe import escape

from ..i18n import catalog_kept, fmt_date, lazy_pgettext
from ..i18n import lazy_gettext as _l

STATES = {
    "awaiting": _l("Awaiting confirmation"),
    "approval": _l("Awaiting approval by the provider"),
    "confirmed": _l("Confirmed, being executed"),
    "executed": _l("Executed"),
    "declined": _l("Declined"),
    "cancelled": _l("Cancelled"),
    # Its own context: Czech words a request's expiry differently from a service's.
    "expired": lazy_pgettext("request state", "Expired"),
    # Not the "Failed" of a mail: Polish and Czech say "not executed" of a request.
    "failed": lazy_pgettext("request state", "Failed"),
}
DIRECTIONS = {
    "push": _l("Transfer to another customer (started by the current owner)"),
    "pull": _l("Transfer to own account (started by the future owner)"),
}
CHANGES = {
    "both": _l("Owner and payer"),
    "owner": _l("Owner only"),
    "payer": _l("Payer only"),
}
ROLES = {
    "owner_from": _l("Current owner"),
    "owner_to": _l("Future owner"),
    "payer_from": _l("Current payer"),
    "payer_to": _l("Future payer"),
    # The owner of a service whose payer changes approves the change.
    "owner": _l("Owner (approves the change of payer)"),
}


def transfer_state_label(state):
    """A request state's name."""
    return STATES.get(state, state)


def transfer_state_text(transfer):
    """A request's state as its pages say it: a confirmed one waiting for its day says when."""
    if transfer.state == "confirmed" and transfer.execute_on is not None:
        return _l("Confirmed, takes effect on %(date)s", date=fmt_date(transfer.execute_on))
    return transfer_state_label(transfer.state)


def transfer_direction_label(direction):
    """Which wizard started the request."""
    return DIRECTIONS.get(direction, direction)


def transfer_change_label(change):
    """What the request changes: owner and payer, owner only, payer only."""
    return CHANGES.get(change, change)


def transfer_role_label(role):
    """A party's role in a request."""
    return ROLES.get(role, role)


ROLE_ORDER = ("owner_from", "owner", "payer_from", "owner_to", "payer_to")


def role_names(roles):
    """Role names in a fixed order; "approves the payer change" goes without saying for
    the current owner."""
    roles = set(roles)
    if "owner_from" in roles:
        roles.discard("owner")
    ordered = sorted(roles, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else 99)
    return [transfer_role_label(r) for r in ordered]


def transfer_party_roles(party):
    """A party's role names (see ``role_names``)."""
    return role_names(party.role_list)


def transfer_party_roles_html(party):
    """A party's role names joined by commas, as HTML (what ``| join(", ")`` makes of
    ``transfer_party_roles``): made once per set of roles and language."""
    kept = catalog_kept("cession_party_roles")
    html = kept.get(party.roles)
    if html is None:
        html = kept[party.roles] = escape(", ").join(transfer_party_roles(party))
    return html


def transfer_summary(request, recipient):
    """The one-line summary of a request for a mail's reader (plain text: the page or mail
    escapes it): who moves how many services of which domain, to or from whom."""
    n = len(request.items)
    names = {"count": n, "domain": request.domain}
    mine = recipient is not None and request.initiator_id != recipient.id
    if len(request.domains) > 1:
        return _several_cases_summary(request, recipient, mine, n)
    if mine and recipient.id == request.to_account_id:
        return ngettext(
            "%(initiator)s moves %(count)s service of %(domain)s to your account",
            "%(initiator)s moves %(count)s services of %(domain)s to your account",
            n,
            initiator=request.initiator.name,
            **names,
        )
    if mine and recipient.id == request.from_account_id:
        return ngettext(
            "%(initiator)s asks to take over %(count)s service of %(domain)s from your account",
            "%(initiator)s asks to take over %(count)s services of %(domain)s from your account",
            n,
            initiator=request.initiator.name,
            **names,
        )
    return ngettext(
        "%(count)s service of %(domain)s moves from %(source)s to %(target)s",
        "%(count)s services of %(domain)s move from %(source)s to %(target)s",
        n,
        source=request.from_account.name,
        target=request.to_account.name,
        **names,
    )


def _several_cases_summary(request, recipient, mine, n):
    """``transfer_summary`` of a request over several business cases: counts the domains."""
    names = {"count": n, "domains": len(request.domains)}
    if mine and recipient.id == request.to_account_id:
        return ngettext(
            "%(initiator)s moves %(count)s service of %(domains)s domains to your account",
            "%(initiator)s moves %(count)s services of %(domains)s domains to your account",
            n,
            initiator=request.initiator.name,
            **names,
        )
    if mine and recipient.id == request.from_account_id:
        return ngettext(
            "%(initiator)s asks to take over %(count)s service of %(domains)s domains"
            " from your account",
            "%(initiator)s asks to take over %(count)s services of %(domains)s domains"
            " from your account",
            n,
            initiator=request.initiator.name,
            **names,
        )
    return ngettext(
        "%(count)s service of %(domains)s domains moves from %(source)s to %(target)s",
        "%(count)s services of %(domains)s domains move from %(source)s to %(target)s",
        n,
        source=request.from_account.name,
        target=request.to_account.name,
        **names,
    )


GLOBALS = {
    "transfer_summary": transfer_summary,
    "transfer_party_roles": transfer_party_roles,
    "transfer_party_roles_html": transfer_party_roles_html,
    "transfer_state_label": transfer_state_label,
    "transfer_state_text": transfer_state_text,
    "transfer_direction_label": transfer_direction_label,
    "transfer_change_label": transfer_change_label,
    "transfer_role_label": transfer_role_label,
}
