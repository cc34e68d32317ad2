"""What each registry asks for a change of the domain holder: the steps the domain's page
shows customers (cession_app/services/holder.py), for staff carrying the change out."""

from ..services.holder import holder_change


def rules_for(domain):
    """(registry name, [steps]) for ``domain``'s top-level domain."""
    return holder_change(domain)
