"""Translated labels for stored codes (kinds, states, roles)."""

from .i18n import lazy_gettext as _l

KINDS = {
    "webhosting": _l("Webhosting"),
    "eshop": _l("E-shop"),
    "domain": _l("Domain"),
    "email": _l("E-mail"),
}
SERVICE_STATES = {
    "active": _l("Active"),
    "expired": _l("Expired"),
    "terminating": _l("In termination"),
}
ROLES = {"owner": _l("Owner"), "payer": _l("Payer")}


def kind_label(kind):
    """A service kind's name; kinds we do not know are shown as stored."""
    return KINDS.get(kind, kind)


def state_label(state):
    """A service state's name."""
    return SERVICE_STATES.get(state, state)


def role_label(role):
    """A role's name."""
    return ROLES.get(role, role)


def init_app(app):
    """Make the labels available in every template."""
    app.jinja_env.globals.update(
        kind_label=kind_label, state_label=state_label, role_label=role_label
    )
