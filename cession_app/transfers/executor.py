"""The executor: confirmed requests whose day has come, executed in batches.

A batch (EXECUTOR_BATCH requests, 50 by default) is one transaction. A request that fails
a rule checked again is failed with its reasons, the others of the batch go on. The batch's
changes are first written together (one statement per table, no savepoint); when anything
raises an error, the transaction rolls back and the batch runs again with each request in a
SAVEPOINT, so the request that breaks rolls back alone and is failed with the error as its
reason (EXECUTOR_SAVEPOINTS: a savepoint per request from the first attempt; slower). A
request moves all its services or none, and the batch commits or rolls back as a whole (a
worker killed mid-batch leaves every request as it was).

Claims: on PostgreSQL the batch's rows are locked FOR UPDATE SKIP LOCKED, so several workers
share the queue and no request is taken twice; SQLite takes its write lock first (one writer
at a time) and reads the states again. What is the same for every request of a batch is done
once: services, their payment requests, the other open requests holding them and the past
events are read in one statement each (the accounts come with the parties). At the end of
the batch each table is written with one statement, whatever the number of requests: the
ended requests, their items and the moved services (SQLAlchemy Core; the ORM's unit of work
is left for what rules and holder tasks change), then the records, the mails, the audit
events and their webhook deliveries (one INSERT each; on PostgreSQL a statement with all the
rows as one parameter, see ``bulk``). 15 statements a batch on PostgreSQL.
"""

import json
import logging
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import or_, select, true, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, bulk, mailer
from ..extensions import built_once, db, dialect_name, one_of
from ..holder import operations as holder
from ..models import Account, AuditEvent, Service, TransferItem, TransferRequest
from ..models.base import utcnow
from . import operations as ops
from . import record as transfer_record

log = logging.getLogger("cession.transfers")


def execute_due(limit=20, now=None):
    """Execute up to ``limit`` confirmed requests whose day has come, in batches.

    Returns the number executed (requests that fail their checks are not counted).
    """
    today = ops.provider_today(now)
    size = max(1, current_app.config.get("EXECUTOR_BATCH", 50))
    executed = 0
    while limit > 0:
        wanted = min(size, limit)
        batch = claim_batch(today, wanted)
        if not batch:
            db.session.rollback()
            break
        executed += _run_batch(batch, today)
        limit -= len(batch)
        if len(batch) < wanted:  # the queue is empty: no need to ask again
            break
    return executed


def _run_batch(batch, today):
    """One batch in one transaction: set-based first; on an error, again with a savepoint
    per request (the request that breaks fails alone); a batch that still breaks, one by one.
    """
    ids = [request.id for request in batch]
    try:
        return execute_batch(batch, savepoints=current_app.config["EXECUTOR_SAVEPOINTS"])
    except Exception:
        db.session.rollback()
        log.warning(
            "a batch of %d transfer requests met an error; again, request by request", len(ids)
        )
    batch = claim_batch(today, len(ids), request_ids=ids)
    if not batch:
        db.session.rollback()
        return 0
    try:
        return execute_batch(batch, savepoints=True)
    except Exception:
        db.session.rollback()
        if len(ids) == 1:
            log.exception("transfer request %s: executing it failed", ids[0])
            return _fail_alone(ids[0], today)
        log.exception("a batch of %d transfer requests failed; running them one by one", len(ids))
    executed = 0
    for request_id in ids:
        batch = claim_batch(today, 1, request_ids=[request_id])
        if batch:
            executed += _run_batch(batch, today)
        else:
            db.session.rollback()
    return executed


def _due(column, today):
    return or_(column.is_(None), column <= today)


def claim_batch(today, size, request_ids=None):
    """Take up to ``size`` confirmed, due requests (the oldest first) for this transaction.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so workers share the queue. SQLite: the database's
    write lock is taken first (one writer at a time), then the states are read again.
    """
    table = TransferRequest.__table__
    due = [table.c.state == "confirmed", _due(table.c.execute_on, today)]
    if request_ids is not None:
        due.append(table.c.id.in_(request_ids))
    if dialect_name() == "sqlite":
        first = select(table.c.id).where(*due).order_by(table.c.id).limit(size)
        db.session.execute(
            update(table).where(table.c.id.in_(first.scalar_subquery())).values(state=table.c.state)
        )
    query = (
        select(TransferRequest)
        .where(
            TransferRequest.state == "confirmed",
            _due(TransferRequest.execute_on, today),
            *([TransferRequest.id.in_(request_ids)] if request_ids is not None else []),
        )
        .limit(size)
        .options(selectinload(TransferRequest.items), selectinload(TransferRequest.parties))
        .execution_options(populate_existing=True)
    )
    if dialect_name() == "sqlite":
        return db.session.scalars(query.order_by(TransferRequest.id)).all()
    # "id + 0": PostgreSQL would otherwise walk the primary key from the oldest request and
    # filter out every ended one (100k rows at 1M services, 15 ms a claim); this way it reads
    # the confirmed ones by the state index and sorts them.
    query = query.order_by(TransferRequest.id + 0).with_for_update(
        skip_locked=True, of=TransferRequest
    )
    return db.session.scalars(query).all()


# ---------------------------------------------------------------- one batch
def _read_batch(batch):
    """What every request of the batch needs, read in one statement each."""
    service_ids = [item.service_id for request in batch for item in request.items]
    services = _lock_services(service_ids)
    holders = {}
    for service_id, request_id in db.session.execute(_holders(), {"services": service_ids}):
        holders.setdefault(service_id, set()).add(request_id)
    events = _events_of([request.id for request in batch])
    account_ids = set()
    for request in batch:
        account_ids |= transfer_record.account_ids(request, events.get(request.id, []))
    return SimpleNamespace(
        services=services, holders=holders, events=events, codes=_codes(batch, account_ids)
    )


@built_once
def _holders():
    """The open requests that hold the services ``services`` (a list of ids)."""
    return select(TransferItem.service_id, TransferItem.request_id).where(
        # '= true', not 'IS true': only then can the partial unique index serve it.
        TransferItem.active == true(),
        one_of(TransferItem.service_id, "services"),
    )


@built_once
def _events():
    """The recorded events of the requests ``requests`` (a list of ids as text)."""
    return (
        select(
            AuditEvent.object_id,
            AuditEvent.created_at,
            AuditEvent.action,
            AuditEvent.actor_id,
            AuditEvent.channel,
            AuditEvent.ip,
        )
        .where(AuditEvent.object_type == "transfer", one_of(AuditEvent.object_id, "requests"))
        .order_by(AuditEvent.id)
    )


def _events_of(request_ids):
    """The recorded events of requests, the oldest first: {request id: [rows]}."""
    events = {}
    if not request_ids:
        return events
    wanted = {"requests": [str(request_id) for request_id in request_ids]}
    for row in db.session.execute(_events(), wanted):
        events.setdefault(int(row.object_id), []).append(row)
    return events


def _codes(batch, account_ids):
    """{account id: code} for the records: the parties' accounts are loaded with the batch
    (the mails' recipients too); any other is read, in one statement."""
    codes = {party.account_id: party.account.code for r in batch for party in r.parties}
    missing = account_ids - codes.keys()
    if missing:
        query = select(Account.id, Account.code).where(Account.id.in_(missing))
        codes.update(db.session.execute(query).all())
    return codes


@built_once
def _services_locked():
    """The services ``services`` (a list of ids) with their payment requests, read anew;
    PostgreSQL: locked until the end of the transaction."""
    query = (
        select(Service)
        .where(one_of(Service.id, "services"))
        .options(selectinload(Service.payment_requests))
        .execution_options(populate_existing=True)
    )
    if dialect_name() != "sqlite":
        query = query.with_for_update(of=Service)
    return query


def _lock_services(service_ids):
    return {s.id: s for s in db.session.scalars(_services_locked(), {"services": service_ids})}


def execute_batch(batch, savepoints=True):
    """Execute (or fail) every claimed request of ``batch``; commits. Returns how many executed.

    ``savepoints``: each request in its own SAVEPOINT, so that one raising an error rolls
    back alone and is failed with the error as its reason; without, the batch's changes are
    written together (one statement per table) and an error rolls back the whole batch.
    """
    known = _read_batch(batch)
    ended = []
    for request in batch:
        if not savepoints:
            ended.append(_execute_one(request, known))
            continue
        try:
            with db.session.begin_nested():
                ended.append(_execute_one(request, known))
        except Exception as exc:  # this request alone rolls back; the batch goes on
            log.exception("transfer request %s: executing it failed", request.id)
            with db.session.begin_nested():
                ended.append(_fail(request, [_error_problem(request, exc)]))
    _write_ends(ended, known)
    # Read before the commit, which expires every object.
    done = [
        (r.id, len(r.items), r.domain_names, (at - r.confirmed_at).total_seconds())
        for r, state, _details, at in ended
        if state == "executed"
    ]
    db.session.commit()
    for line in done:
        log.info(
            "transfer request %s executed: %d service(s) of %s moved, %.2f s after confirmation",
            *line,
        )
    return len(done)


def _execute_one(request, known):
    """Move the request's services (its savepoint), or fail it; (request, state, details, at)."""
    services = {item.service_id: known.services[item.service_id] for item in request.items}
    locked = {
        service_id for service_id in services if known.holders.get(service_id, set()) - {request.id}
    }
    problems = ops.execution_problems(request, services, locked=locked)
    if problems:
        return _fail(request, problems)
    now = utcnow()
    handed = ops._hand_over_payments(request, services, now)
    if request.holder_change:
        holder.create_tasks(request)
    for item in request.items:  # nothing can fail any more: written with the batch's end
        service = services[item.service_id]
        if service.owner_id != item.new_owner_id:
            _set(service, moved_at=now)
        _set(service, owner_id=item.new_owner_id, payer_id=item.new_payer_id)
    details = {
        "domains": request.domains,
        "services": [services[item.service_id].external_id for item in request.items],
    }
    if handed:
        details["payment_requests"] = handed
    return _ended(request, "executed", details, now)


def _fail(request, problems):
    _set(request, failure_reason=json.dumps({"reasons": problems}))
    log.warning("transfer request %s failed: %s", request.id, problems)
    details = {"domains": request.domains, "reasons": [p["code"] for p in problems]}
    return _ended(request, "failed", details, utcnow())


def _error_problem(request, exc):
    """An unexpected error, as a failure reason (the customer reads "can no longer move")."""
    item = request.items[0]
    problem = ops._problem("error", db.session.get(Service, item.service_id))
    problem["error"] = f"{type(exc).__name__}: {exc}"[:500]
    return problem


def _ended(request, state, details, now):
    _set(request, state=state, ended_at=now)
    for item in request.items:
        _set(item, active=False)
    return request, state, details, now


def _set(record, **values):
    """Change a loaded record as the batch's end writes it (``_write_changes``): the ORM does
    not write it again (its unit of work would cost a third of a batch)."""
    for key, value in values.items():
        set_committed_value(record, key, value)


@built_once
def _let_go():
    """The items of the requests ``requests`` (a list of ids) no longer hold their services."""
    items = TransferItem.__table__
    return update(items).where(one_of(items.c.request_id, "requests")).values(active=False)


def _write_changes(ended, known):
    """The ended requests, their items let go and their services moved: a statement each."""
    requests, services = TransferRequest.__table__, Service.__table__
    rows = [
        {"b_id": r.id, "state": r.state, "ended_at": r.ended_at, "failure_reason": r.failure_reason}
        for r, _state, _details, _at in ended
    ]
    bulk.update_rows(requests, rows)
    db.session.execute(_let_go(), {"requests": [row["b_id"] for row in rows]})
    rows = [
        {"b_id": s.id, "owner_id": s.owner_id, "payer_id": s.payer_id, "moved_at": s.moved_at}
        for r, state, _details, _at in ended
        if state == "executed"
        for s in (known.services[item.service_id] for item in r.items)
    ]
    if rows:
        bulk.update_rows(services, rows)


def _write_ends(ended, known):
    """The end events, records and mails of the batch's requests: one INSERT each."""
    # The batch's changes first, and the rows its holder tasks added (their events are part
    # of the records, and they keep coming before the end's events and mails).
    db.session.flush()
    _write_changes(ended, known)
    holder_events = _events_of(
        [r.id for r, state, _details, _at in ended if r.holder_change and state == "executed"]
    )
    channel = audit.current_channel()
    records, mails = [], []
    for request, state, _details, at in ended:
        events = known.events.get(request.id, [])
        if request.holder_change and state == "executed":
            events = holder_events.get(request.id, [])
        end_event = SimpleNamespace(
            created_at=at, action=f"transfer_{state}", actor_id=None, channel=channel, ip=None
        )
        records.append(
            (request, transfer_record.content_of(request, [*events, end_event], known.codes))
        )
        mails += ops.end_mails(request)
    transfer_record.freeze_batch(records)
    mailer.queue_batch(mails)
    audit.record_many(
        [
            (f"transfer_{state}", "transfer", request.id, details, at)
            for request, state, details, at in ended
        ]
    )


def _fail_alone(request_id, today):
    """Last resort: a request that cannot even be failed normally is failed by hand."""
    batch = claim_batch(today, 1, request_ids=[request_id])
    if not batch:
        db.session.rollback()
        return 0
    request = batch[0]
    request.state = "failed"
    request.ended_at = utcnow()
    request.failure_reason = json.dumps({"reasons": [{"code": "error"}]})
    for item in request.items:
        item.active = False
    audit.record(
        "transfer_failed", "transfer", request.id, domains=request.domains, reasons=["error"]
    )
    db.session.commit()
    return 0
