"""Translated names of holder-change states."""

from ..i18n import lazy_gettext as _l

STATES = {
    "open": _l("being arranged by the provider"),
    "done": _l("changed in the registry"),
    "refused": _l("refused"),
}


def holder_state_label(state):
    """A holder change's state as customers read it."""
    return STATES.get(state, state)
