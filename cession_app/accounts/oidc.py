"""Sign-in with the reseller's OpenID Connect provider (Authlib); off unless OIDC_ISSUER is set.

The provider's ID token is checked by Authlib (signature from its published keys, issuer,
audience, expiry, the nonce and state of this browser's sign-in); the account is the one
whose OIDC_MATCH_FIELD (code, login or number) equals the token's OIDC_CLAIM. Staff accounts
cannot sign in this way.
"""

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Account

MATCH_FIELDS = {"code": Account.code, "login": Account.login, "number": Account.number}
EXTENSION = "cession_oidc"


def init_app(app):
    """Register the provider with Authlib when configured (Authlib is loaded only then)."""
    cfg = app.config
    if not cfg.get("OIDC_ISSUER"):
        return
    if cfg["OIDC_MATCH_FIELD"] not in MATCH_FIELDS:
        raise RuntimeError("OIDC_MATCH_FIELD must be code, login or number (see README).")
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth.register(
        "reseller",
        client_id=cfg["OIDC_CLIENT_ID"],
        client_secret=cfg["OIDC_CLIENT_SECRET"],
        server_metadata_url=cfg["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": cfg["OIDC_SCOPE"], "timeout": 10},
    )


def client():
    """The registered provider, or None when sign-in with it is off."""
    return current_app.extensions.get(EXTENSION)


def account_for(claims):
    """The account the provider's claims name, or None (unknown, or staff)."""
    value = (claims or {}).get(current_app.config["OIDC_CLAIM"])
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        return None
    column = MATCH_FIELDS[current_app.config["OIDC_MATCH_FIELD"]]
    value = str(value).strip()
    if column is Account.code:
        value = value.lower()
    account = db.session.scalar(select(Account).where(column == value))
    if account is None or account.is_staff:
        return None
    return account
