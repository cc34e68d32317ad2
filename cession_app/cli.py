"""CLI commands under ``flask --app cession_app`` (messages for staff: plain English)."""

import os

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError


def init_app(app):
    """Register the commands."""
    from .api.commands import api_key_group
    from .staff import staff_cli

    app.cli.add_command(doctor_command)
    for command in (
        worker_command,
        import_data_command,
        export_data_command,
        seed_demo_command,
        verify_record_command,
    ):
        app.cli.add_command(command)
    app.cli.add_command(api_key_group)
    from .webhooks.commands import webhook_group

    app.cli.add_command(webhook_group)
    app.cli.add_command(staff_cli)


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron and tests).")
@with_appcontext
def worker_command(once):
    """Execute confirmed transfers, deliver mail, expire and remind, in a loop."""
    from . import freeze_startup, worker

    if not once:
        freeze_startup()
    worker.run(once=once)


def _import_or_fail(data, source, *, force=False, dry_run=False, changes=None, progress=None):
    """Import ``data`` in one transaction and commit; on any problem roll back and exit 1.

    ``dry_run``: check and count everything, then roll back (nothing changes).
    """
    from . import audit, dataio
    from .extensions import db

    audit.set_channel("cli")
    try:
        summary = dataio.import_data(data, force=force, changes=changes, progress=progress)
        if dry_run:
            db.session.rollback()
            return summary
        _audit_import(source, summary)
        db.session.commit()
    except dataio.DataError as exc:
        db.session.rollback()
        raise click.ClickException(_problems_message(source, exc.problems)) from None
    except SQLAlchemyError as exc:
        db.session.rollback()
        message = str(getattr(exc, "orig", None) or exc).strip()
        raise click.ClickException(
            f"{source}: the database refused the import, nothing was imported: {message}"
        ) from None
    return summary


def _audit_import(source, summary):
    """Record an import that changed something (an unchanged re-import writes nothing)."""
    from . import audit

    details = {k: [c.created, c.updated] for k, c in summary.items() if c.created or c.updated}
    if details:
        name = os.path.basename(source)[-64:]  # object ids hold 64 characters
        audit.record("data_imported", "import", name, source=source, **details)


def _problems_message(source, problems):
    from .dataio import MAX_PROBLEMS

    lines = [f"{source}: nothing was imported ({len(problems)} problem(s)):"]
    lines += [f"  {p}" for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"  ... and {len(problems) - MAX_PROBLEMS} more")
    return "\n".join(lines)


@click.command("import-data")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--dry-run", is_flag=True, help="Check and print what would change; change nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Change owners and payers of services in open transfer requests (those requests fail).",
)
@with_appcontext
def import_data_command(file, dry_run, force):
    """Create or update accounts, services and payment requests from a JSON FILE (- for stdin).

    The whole file is one transaction: with any problem nothing is imported.
    """
    from . import dataio

    try:
        data = dataio.load(file)
    except dataio.DataError as exc:
        raise click.ClickException(_problems_message(file.name, exc.problems)) from None
    changes = []
    with _progress_bar(data) as bar:
        summary = _import_or_fail(
            data, file.name, force=force, dry_run=dry_run, changes=changes, progress=bar.update
        )
    if dry_run:
        click.echo(f"Dry run of {file.name}, nothing changed: {dataio.summary_line(summary)}")
    else:
        click.echo(f"Imported {file.name}: {dataio.summary_line(summary)}")
    for line in changes:
        click.echo(f"  {line}")


@click.command("export-data")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@with_appcontext
def export_data_command(file):
    """Write all accounts, services and payment requests as JSON to FILE (default: stdout)."""
    from . import dataio

    data = dataio.export_data()
    # atomic: the file is replaced only once it is complete.
    with click.open_file(file, "w", encoding="utf-8", atomic=True) as stream:
        dataio.dump(data, stream)
    if file != "-":
        counts = ", ".join(f"{len(rows)} {key.replace('_', ' ')}" for key, rows in data.items())
        click.echo(f"Exported {counts} to {file}.", err=True)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when any account exists.")
@with_appcontext
def seed_demo_command(if_empty):
    """Load the demo customers and services (log-ins in the README); running it again is safe."""
    from . import dataio, demo
    from .extensions import db
    from .models import Account

    if if_empty and db.session.scalar(select(Account.id).limit(1)) is not None:
        click.echo("Accounts exist already: demo data not loaded.")
        return
    summary = _import_or_fail(demo.document(), "demo data")
    click.echo(f"Demo data: {dataio.summary_line(summary)}")


@click.command("verify-record")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def verify_record_command(file):
    """Check that a transfer record PDF is a copy we issued, unchanged (exit 1 if not)."""
    from .transfers import record

    verdict = record.verify(file.read())
    click.echo(verdict.message)
    if not verdict.ok:
        raise SystemExit(1)


@click.command("doctor")
@with_appcontext
def doctor_command():
    """Check a production setup and say what to fix; exit status 1 when anything fails."""
    from flask import current_app

    from . import health

    failed = 0
    for name, problem in health.doctor_checks(current_app.config):
        if problem:
            failed += 1
            click.echo(f"FAIL  {name}: {problem}")
        else:
            click.echo(f"ok    {name}")
    if failed:
        raise click.ClickException(f"{failed} check(s) failed: fix them and run doctor again.")
    click.echo("All checks passed.")


PROGRESS_FROM = 1000  # records: smaller files import too fast for a bar to help


def _progress_bar(data):
    """A progress bar on stderr for large files (the records written so far)."""
    import contextlib
    import sys

    sections = data.values() if isinstance(data, dict) else ()
    total = sum(len(rows) for rows in sections if isinstance(rows, list))
    if total < PROGRESS_FROM:
        return contextlib.nullcontext(_NoBar())
    return click.progressbar(length=total, label="Importing records", file=sys.stderr)


class _NoBar:
    def update(self, n):
        """Nothing to show."""
