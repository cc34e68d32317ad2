"""CLI commands under ``flask --app cession_app``."""

import click
from flask.cli import with_appcontext


def init_app(app):
    """Register the commands."""
    app.cli.add_command(worker_command)


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron and tests).")
@with_appcontext
def worker_command(once):
    """Execute confirmed transfers, deliver mail, expire and remind, in a loop."""
    from . import worker

    worker.run(once=once)
