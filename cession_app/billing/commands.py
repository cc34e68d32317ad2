"""CLI: ``flask --app cession_app mark-paid PR-1 [--on YYYY-MM-DD]``."""

import click
from flask_babel import gettext as _

from .. import audit
from . import bp, operations


@bp.cli.command("mark-paid")
@click.argument("external_id")
@click.option(
    "--on",
    "paid_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day of the payment (YYYY-MM-DD); today when left out.",
)
def mark_paid_command(external_id, paid_on):
    """Mark a payment request paid (its transfer block lifts at once)."""
    audit.set_channel("cli")
    pr = operations.find_payment_request(external_id)
    if pr is None:
        raise click.ClickException(_("There is no payment request %(id)s.", id=external_id))
    day = paid_on.date() if paid_on else operations.today()
    try:
        operations.mark_paid(pr, day, source="command")
    except operations.BillingRefused as refused:
        raise click.ClickException("; ".join(str(r) for r in refused.reasons)) from None
    click.echo(_("%(id)s marked paid on %(date)s.", id=external_id, date=day.isoformat()))
