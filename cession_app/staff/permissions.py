"""Staff roles: who may do what in the staff console (pure functions, no request needed)."""

SUPPORT, ADMIN = "support", "admin"
ROLES = (SUPPORT, ADMIN)

# Actions only an admin may take; everything else in the console is open to support too.
ADMIN_ONLY = frozenset(
    {
        "cancel",  # end a customer's request
        "confirm_on_behalf",  # act for a customer
        "send_elsewhere",  # a confirmation link to an address the account does not have
        "resend_mail_elsewhere",  # a copy of a mail (it may hold a link) to another address
        "settings",
        "integrations",  # API keys and webhook endpoints
    }
)


def role_of(account):
    """The account's staff role, or None for customers (staff without a role are admins)."""
    if account is None or not getattr(account, "is_staff", False):
        return None
    return account.staff_role if account.staff_role in ROLES else ADMIN


def may(account, action):
    """True when the account may take ``action`` in the staff console."""
    role = role_of(account)
    if role is None:
        return False
    return role == ADMIN or action not in ADMIN_ONLY
