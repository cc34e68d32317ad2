"""Pure rules about accounts: what a new password must be."""

from ..i18n import lazy_gettext as _l

MIN_PASSWORD = 10
MAX_PASSWORD = 200
# A login name or e-mail part shorter than this is not looked for inside the password.
MIN_PART = 3


def password_problems(account, password):
    """Why ``password`` cannot be ``account``'s new password (empty list: it can)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(_l("The password must have at least %(min)d characters.", min=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        problems.append(_l("The password can have at most %(max)d characters.", max=MAX_PASSWORD))
    lowered = password.lower()
    parts = {account.login or "", account.email or "", (account.email or "").partition("@")[0]}
    if any(len(part) >= MIN_PART and part.lower() in lowered for part in parts):
        problems.append(_l("The password must not contain your login name or e-mail address."))
    return problems
