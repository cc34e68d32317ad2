"""``flask --app cession_app api-key create|list|revoke`` (messages for staff: English)."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

api_key_group = AppGroup("api-key", help="Create, list and revoke API keys.")


@api_key_group.command("create")
@click.option("--name", required=True, help="What the key is for, e.g. billing-sync.")
@click.option(
    "--scopes", required=True, help="Comma-separated: read, sync, transfers (e.g. read,sync)."
)
@click.option("--account", "account_code", help="Bind the key to this customer code.")
def create_command(name, scopes, account_code):
    """Create a key and print it once (only its digest is stored)."""
    from .. import audit
    from ..extensions import db
    from ..models import Account
    from .auth import KeyRefused, create_key

    audit.set_channel("cli")
    account = None
    if account_code:
        account = db.session.scalar(select(Account).where(Account.code == account_code))
        if account is None:
            raise click.ClickException(f"no account with code {account_code!r}")
    try:
        key, secret = create_key(name, [s.strip() for s in scopes.split(",")], account)
    except KeyRefused as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created API key {key.prefix}… ({key.name}; scopes {key.scopes}).")
    click.echo("Copy it now, it is not shown again:")
    click.echo(secret)


@api_key_group.command("list")
def list_command():
    """List the keys: prefix, name, scopes, account, last use, revoked."""
    from ..extensions import db
    from ..models import ApiKey

    for key in db.session.scalars(select(ApiKey).order_by(ApiKey.id)):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        account = key.account.code if key.account else "all accounts"
        click.echo(f"{key.prefix}…  {key.name}  {key.scopes}  {account}  used {used}  {state}")


@api_key_group.command("revoke")
@click.argument("prefix")
def revoke_command(prefix):
    """Revoke the key whose printed prefix is PREFIX."""
    from .. import audit
    from ..extensions import db
    from ..models import ApiKey
    from .auth import revoke_key

    audit.set_channel("cli")
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix.rstrip("…")))
    if key is None:
        raise click.ClickException(f"no API key with prefix {prefix!r}")
    revoke_key(key)
    db.session.commit()
    click.echo(f"Revoked {key.prefix}… ({key.name}).")
