"""Translated names of audit events and of the channels a change came by."""

from ..i18n import lazy_gettext as _l

ACTIONS = {
    "transfer_requested": _l("Request made"),
    "transfer_confirmed": _l("Confirmed"),
    "transfer_confirmed_on_behalf": _l("Confirmed by support on behalf of a customer"),
    "transfer_fully_confirmed": _l("Confirmed by everyone"),
    "transfer_declined": _l("Declined"),
    "transfer_cancelled": _l("Cancelled"),
    "transfer_expired": _l("Expired without every confirmation"),
    "transfer_executed": _l("Transfer executed"),
    "transfer_failed": _l("Transfer failed"),
    "transfer_link_resent": _l("Confirmation link sent again"),
    "transfer_link_sent_elsewhere": _l("Confirmation link sent to another address"),
    "transfer_reminded": _l("Reminder sent"),
    "transfer_approved": _l("Approved by the provider"),
    "setting_changed": _l("Setting changed"),
    "sessions_ended": _l("Signed out everywhere by support"),
    "payment_marked_paid": _l("Payment request marked paid"),
    "tax_document_requested": _l("New tax document requested"),
    "tax_document_done": _l("New tax document issued"),
    "service_terminated": _l("Service termination started"),
    "service_changed": _l("Service settings changed"),
    "login": _l("Logged in"),
    "preferences_changed": _l("Language or time zone changed"),
    "data_imported": _l("Data imported"),
    "mail_requeued": _l("Mail queued again"),
    "mail_resent": _l("Mail sent to another address"),
    "staff_role_set": _l("Staff role given"),
    "staff_role_removed": _l("Staff rights taken away"),
    "account_synced": _l("Account created or updated by the billing system"),
    "service_synced": _l("Service created or updated by the billing system"),
    "payment_request_synced": _l("Payment request created or updated by the billing system"),
    "service_blocked": _l("Service blocked for transfers"),
    "service_unblocked": _l("Service free to transfer again"),
    "api_key_created": _l("API key created"),
    "api_key_revoked": _l("API key revoked"),
    "webhook_endpoint_added": _l("Webhook endpoint registered"),
    "webhook_endpoint_enabled": _l("Webhook endpoint enabled"),
    "webhook_endpoint_disabled": _l("Webhook endpoint disabled"),
    "webhook_endpoint_deleted": _l("Webhook endpoint deleted"),
    "webhook_redelivered": _l("Webhook event sent again"),
}

CHANNELS = {
    "panel": _l("customer panel"),
    "link": _l("link from an e-mail"),
    "staff": _l("provider support"),
    "api": _l("API"),
    "worker": _l("automatically"),
    "cli": _l("command line"),
    "system": _l("system"),
}


def action_label(action):
    """An audit event's name (unknown ones as stored)."""
    return ACTIONS.get(action, action)


def channel_label(channel):
    """How a change came, in words."""
    return CHANNELS.get(channel, channel)


STAFF_ROLES = {"support": _l("Support"), "admin": _l("Administrator")}


def staff_role_label(account):
    """A staff member's role in words."""
    from .permissions import role_of

    role = role_of(account)
    return STAFF_ROLES.get(role, role)


GLOBALS = {
    "audit_action_label": action_label,
    "audit_channel_label": channel_label,
    "staff_role_label": staff_role_label,
}
