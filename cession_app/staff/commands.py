"""``flask --app cession_app staff add|remove|list``: who may use the staff console."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import Account
from .permissions import ROLES, role_of

staff_cli = AppGroup("staff", help="Manage staff members and their roles.")


def _account(login):
    account = db.session.scalar(select(Account).filter_by(login=login))
    if account is None:
        raise click.ClickException(f"No account has the login name {login!r}.")
    return account


@staff_cli.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(ROLES), default="support", show_default=True)
def add_command(login, role):
    """Make an account a staff member with ROLE (or change its role)."""
    account = _account(login)
    audit.set_channel("cli")
    account.is_staff, account.staff_role = True, role
    audit.record("staff_role_set", "account", account.code, role=role)
    db.session.commit()
    click.echo(f"{account.login} ({account.code}) is now staff: {role}.")


@staff_cli.command("remove")
@click.argument("login")
def remove_command(login):
    """Take an account's staff rights away."""
    account = _account(login)
    audit.set_channel("cli")
    account.is_staff, account.staff_role = False, None
    audit.record("staff_role_removed", "account", account.code)
    db.session.commit()
    click.echo(f"{account.login} ({account.code}) is no longer staff.")


@staff_cli.command("list")
def list_command():
    """List the staff members and their roles."""
    query = select(Account).filter_by(is_staff=True).order_by(Account.login)
    for account in db.session.scalars(query):
        click.echo(f"{account.login}\t{account.code}\t{role_of(account)}\t{account.email}")
