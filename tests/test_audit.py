"""Audit events say how a change came (link, panel, worker, cli) and from where."""

from cession_app.extensions import db
from cession_app.models import AuditEvent
from tests.lifecycle_helpers import deliver, link_for, push


def _events(request_id):
    db.session.expire_all()
    query = (
        db.select(AuditEvent)
        .where(AuditEvent.object_type == "transfer", AuditEvent.object_id == str(request_id))
        .order_by(AuditEvent.id)
    )
    return {e.action: e for e in db.session.scalars(query)}


def test_events_record_channel_address_and_device(app, client, make, smtp, log_in):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    deliver()
    link = link_for(smtp, svoboda.email)
    client.post(link, data={"confirm": "1"}, headers={"User-Agent": "Mozilla/5.0 (Phone)"})
    log_in("novak")
    client.post(f"/transfers/requests/{req.id}/answer", data={"confirm": "1"})
    deliver()

    events = _events(req.id)
    confirmations = [
        e for e in db.session.scalars(db.select(AuditEvent)) if e.action == "transfer_confirmed"
    ]
    by_actor = {e.actor_id: e for e in confirmations}
    assert by_actor[svoboda.id].channel == "link"
    assert by_actor[svoboda.id].user_agent == "Mozilla/5.0 (Phone)"
    assert by_actor[svoboda.id].ip == "127.0.0.1"
    assert by_actor[novak.id].channel == "panel"
    assert events["transfer_executed"].channel == "worker"
    assert events["transfer_executed"].ip is None


def test_cli_import_is_recorded_as_cli(app, runner, tmp_path):
    path = tmp_path / "data.json"
    path.write_text(
        '{"accounts": [{"code": "abc", "number": "1", "login": "abc", "name": "A",'
        ' "email": "a@example.test", "language": "en", "timezone": "Europe/Prague"}]}'
    )
    result = runner.invoke(args=["import-data", str(path)])
    assert result.exit_code == 0, result.output
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "data_imported"))
    assert event.channel == "cli"
