"""``flask --app cession_app webhook ...``: endpoints, their delivery log, redelivery (English)."""

import click
from flask.cli import AppGroup

webhook_group = AppGroup("webhook", help="Register webhook endpoints and read their log.")


@webhook_group.command("add")
@click.argument("url")
@click.option("--events", default="*", help="Comma-separated event types, or * (all).")
def add_command(url, events):
    """Register URL for events; prints the signing secret (whsec_...) to give the receiver."""
    from .. import audit
    from ..extensions import db
    from .operations import EndpointRefused, create_endpoint

    audit.set_channel("cli")
    try:
        endpoint = create_endpoint(url, events.split(","))
    except EndpointRefused as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Endpoint {endpoint.id}: {endpoint.url} ({endpoint.event_types})")
    click.echo(f"Signing secret: {endpoint.secret}")


@webhook_group.command("list")
def list_command():
    """The endpoints: id, URL, event types, enabled."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import WebhookEndpoint

    for ep in db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)):
        state = "enabled" if ep.enabled else f"disabled {ep.disabled_at:%Y-%m-%d %H:%M}"
        click.echo(f"{ep.id}  {ep.url}  {ep.event_types}  {state}")


def _endpoint(endpoint_id):
    from ..extensions import db
    from ..models import WebhookEndpoint

    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise click.ClickException(f"no webhook endpoint {endpoint_id}")
    return endpoint


@webhook_group.command("enable")
@click.argument("endpoint_id", type=click.IntRange(1, 2**31))
def enable_command(endpoint_id):
    """Enable an endpoint again (e.g. after it was disabled for failing 3 days)."""
    from .. import audit
    from ..extensions import db
    from .operations import set_enabled

    audit.set_channel("cli")
    set_enabled(_endpoint(endpoint_id), True)
    db.session.commit()
    click.echo(f"Endpoint {endpoint_id} enabled.")


@webhook_group.command("disable")
@click.argument("endpoint_id", type=click.IntRange(1, 2**31))
def disable_command(endpoint_id):
    """Disable an endpoint (its deliveries wait)."""
    from .. import audit
    from ..extensions import db
    from .operations import set_enabled

    audit.set_channel("cli")
    set_enabled(_endpoint(endpoint_id), False)
    db.session.commit()
    click.echo(f"Endpoint {endpoint_id} disabled.")


@webhook_group.command("delete")
@click.argument("endpoint_id", type=click.IntRange(1, 2**31))
def delete_command(endpoint_id):
    """Delete an endpoint and its delivery log."""
    from .. import audit
    from ..extensions import db
    from .operations import delete_endpoint

    audit.set_channel("cli")
    delete_endpoint(_endpoint(endpoint_id))
    db.session.commit()
    click.echo(f"Endpoint {endpoint_id} deleted.")


@webhook_group.command("log")
@click.argument("endpoint_id", type=click.IntRange(1, 2**31))
def log_command(endpoint_id):
    """The delivery log of an endpoint, newest first: id, event, status, answer, attempts, time."""
    from .operations import deliveries_of

    _endpoint(endpoint_id)
    for d in deliveries_of(endpoint_id):
        when = d.finished_at or d.next_attempt_at
        answer = d.last_status if d.last_status is not None else (d.last_error or "-")
        click.echo(
            f"{d.id}  {d.event.action}  {d.status}  {answer}  {d.attempts} attempt(s)"
            f"  {when:%Y-%m-%d %H:%M:%S}"
        )


@webhook_group.command("redeliver")
@click.argument("delivery_id", type=click.IntRange(1, 2**31))
def redeliver_command(delivery_id):
    """Send a delivery's event to its endpoint again."""
    from .. import audit
    from ..extensions import db
    from ..models import WebhookDelivery
    from .operations import redeliver

    audit.set_channel("cli")
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise click.ClickException(f"no webhook delivery {delivery_id}")
    again = redeliver(delivery)
    db.session.commit()
    click.echo(f"Delivery {again.id} queued (event {delivery.event_id}).")
