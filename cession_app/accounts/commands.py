"""CLI: ``flask --app cession_app invite [--all-without-password | CODE...] [--again]``."""

import click
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import Account
from . import bp, operations

MAX_SKIPPED_SHOWN = 20


def _targets(codes, all_without_password):
    """The accounts to invite (ids), or a ClickException for a bad choice or unknown codes."""
    if bool(codes) == bool(all_without_password):
        raise click.UsageError("Give customer codes, or --all-without-password (not both).")
    if all_without_password:
        return operations.accounts_without_password()
    wanted = [code.strip().lower() for code in codes]
    found = dict(
        db.session.execute(select(Account.code, Account.id).where(Account.code.in_(wanted))).all()
    )
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise click.ClickException(
            f"No account has the code: {', '.join(unknown)}. Nobody was invited."
        )
    return [found[code] for code in dict.fromkeys(wanted)]


@bp.cli.command("invite")
@click.argument("codes", nargs=-1)
@click.option("--all-without-password", is_flag=True, help="Every account that has no password.")
@click.option("--again", is_flag=True, help="Also accounts invited in the last 24 hours.")
def invite_command(codes, all_without_password, again):
    """Mail accounts a link to set their password (the worker sends the mails).

    Accounts with a password are skipped, and so are those invited in the last 24 hours
    unless --again.
    """
    audit.set_channel("cli")
    ids = _targets(codes, all_without_password)
    invited, skipped = 0, []
    for done, account_id in enumerate(ids, start=1):
        account = db.session.get(Account, account_id)
        if operations.invite(account, again=again):
            invited += 1
            db.session.commit()  # each invitation on its own: an interruption loses none
        else:
            skipped.append(f"  {account.code}: skipped ({_why_skipped(account)})")
        click.echo(f"\rInviting: {done}/{len(ids)} accounts", nl=done == len(ids), err=True)
    for line in skipped[:MAX_SKIPPED_SHOWN]:
        click.echo(line, err=True)
    if len(skipped) > MAX_SKIPPED_SHOWN:
        click.echo(f"  ... and {len(skipped) - MAX_SKIPPED_SHOWN} more", err=True)
    click.echo(f"Invited {invited} account(s); skipped {len(skipped)}.")


def _why_skipped(account):
    if account.password_hash:
        return "has a password"
    return "invited in the last 24 hours; use --again"
