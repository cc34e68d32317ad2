"""What each registry asks for a change of the domain holder (see DOMAIN.md)."""

from ..i18n import lazy_gettext as _l

RULES = {
    "pl": _l(
        ".pl (NASK): never without the holder's knowledge and consent. Send confirmation links"
        " to the old holder, then to the new one, at their e-mail addresses in the registry"
        " (valid 7 days), or ask for a form signed by both."
    ),
    "cz": _l(
        ".cz (CZ.NIC): authorise the change from the holder's e-mail in the registry (a signed"
        " form or a verified signature when that mailbox is dead). The new holder needs its own"
        " contact ID."
    ),
    "de": _l(
        ".de (DENIC): change the holder on the orders of both holders. Impossible while a"
        " DISPUTE entry exists."
    ),
    "eu": _l(
        ".eu (EURid): a trade with the consent of both holders. The new holder must meet the EU"
        " eligibility rules."
    ),
}
GENERIC = _l(
    "Generic TLD (ICANN Change of Registrant): confirm the consent of the old and the new"
    " holder by a secure mechanism, tell both, and process it within a day. A 60-day lock"
    " against moving to another registrar follows unless the old holder opted out. Refused"
    " while the registration is expired or a dispute (UDRP, URS, court) is open."
)


def tld(domain):
    """The top-level domain, lower case, without the dot."""
    return domain.rsplit(".", 1)[-1].lower()


def rules_for(domain):
    """The registry's rules for changing the holder of ``domain``, translated."""
    return RULES.get(tld(domain), GENERIC)
