"""How the domain holder in the registry (WHOIS) is changed, per registry: the steps the
domain's page shows. Moving a domain between accounts leaves the holder as it is."""

from flask import current_app

from ..i18n import lazy_gettext as _l


def _generic():
    days = current_app.config["HOLDER_CHANGE_LOCK_DAYS"]
    steps = [
        _l(
            "Ask us for the holder change (ICANN Change of Registrant). We confirm the consent"
            " of the current and the new holder by a secure link and tell both."
        ),
        _l("The change is processed within a day."),
        _l(
            "Afterwards the domain cannot move to another registrar for %(days)s days, unless"
            " the current holder opted out before the change.",
            days=days,
        )
        if days
        else None,
        _l(
            "It is not possible while the registration is expired or a dispute"
            " (UDRP, URS, court) is open."
        ),
    ]
    return [step for step in steps if step is not None]


REGISTRIES = {
    "pl": (
        "NASK",
        lambda: [
            _l(
                "The holder is never changed without the current holder's knowledge and"
                " consent; the confirmations go to the holder's e-mail address in the registry."
            ),
            _l(
                "Usually the current holder and then the new holder confirm by e-mail links"
                " valid for 7 days; some registrars ask for a form signed by both."
            ),
        ],
    ),
    "cz": (
        "CZ.NIC",
        lambda: [
            _l(
                "The registrar authorises the change from the holder's e-mail address in the"
                " registry; if that mailbox no longer works, by a signed paper form or a"
                " verified electronic signature."
            ),
            _l("The new holder needs its own contact ID in the registry."),
        ],
    ),
    "de": (
        "DENIC",
        lambda: [
            _l(
                "The registrar changes the holder on orders from both the current"
                " and the new holder."
            ),
            _l("It is not possible while a DISPUTE entry exists for the domain."),
        ],
    ),
    "eu": (
        "EURid",
        lambda: [
            _l("The registrar changes the holder (a trade) with the consent of both holders."),
            _l("The new holder must meet the EU eligibility rules."),
        ],
    ),
}


def holder_change(domain):
    """(registry name, [steps]) for the domain's top-level domain."""
    tld = domain.rsplit(".", 1)[-1].lower()
    if tld in REGISTRIES:
        name, steps = REGISTRIES[tld]
        return name, steps()
    return "ICANN", _generic()
