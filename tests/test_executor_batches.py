"""The executor in batches: a savepoint per request, a worker killed mid-batch, two workers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select

from cession_app.extensions import db
from cession_app.models import Service, TransferRecord, WebhookDelivery
from cession_app.transfers import executor, operations
from cession_app.webhooks import operations as webhooks
from tests.lifecycle_helpers import audit_actions, fresh, outbox
from tests.test_worker import confirmed_request, in_threads

ROOT = Path(__file__).resolve().parent.parent


def confirmed_requests(make, n):
    made = [confirmed_request(make, i) for i in range(n)]
    db.session.commit()
    return made


def assert_executed_once(req, web, new_owner):
    assert fresh(req.id).state == "executed"
    assert audit_actions(req.id).count("transfer_executed") == 1
    assert db.session.get(Service, web.id).owner_id == new_owner.id
    records = db.session.scalars(db.select(TransferRecord).filter_by(request_id=req.id)).all()
    assert len(records) == 1 and records[0].content["state"] == "executed"


def assert_untouched(req, web, old_owner_id):
    assert fresh(req.id).state == "confirmed"
    assert "transfer_executed" not in audit_actions(req.id)
    assert db.session.get(Service, web.id).owner_id == old_owner_id
    assert all(item.active for item in fresh(req.id).items)


def test_one_batch_executes_every_request_with_its_events_records_and_mails(app, make):
    made = confirmed_requests(make, 6)
    assert operations.execute_due(50) == 6
    for req, web, svoboda in made:
        assert_executed_once(req, web, svoboda)
    assert len(outbox("request_ended")) == 6 * 2


@pytest.mark.parametrize("savepoints", [False, True])
def test_a_request_that_breaks_rolls_back_alone_and_fails_with_its_reason(
    app, make, monkeypatch, savepoints
):
    app.config["EXECUTOR_SAVEPOINTS"] = savepoints
    made = confirmed_requests(make, 4)
    bad = made[1][0].id
    original = operations._hand_over_payments

    def breaks(request, services, now):
        if request.id == bad:
            for service in services.values():
                service.owner_id = request.to_account_id  # half moved, then it breaks
            db.session.flush()
            raise RuntimeError("disk on fire")
        return original(request, services, now)

    monkeypatch.setattr(operations, "_hand_over_payments", breaks)
    assert operations.execute_due(50) == 3
    for n, (req, web, svoboda) in enumerate(made):
        if n == 1:
            assert fresh(req.id).state == "failed"
            assert db.session.get(Service, web.id).owner_id == req.from_account_id
            reasons = json.loads(fresh(req.id).failure_reason)["reasons"]
            assert reasons[0]["code"] == "error" and "disk on fire" in reasons[0]["error"]
            assert audit_actions(req.id).count("transfer_failed") == 1
            assert operations.failure_texts(fresh(req.id))  # the customer reads a reason
        else:
            assert_executed_once(req, web, svoboda)
    assert len(outbox("request_ended")) == 4 * 2  # the failed one is told too


def test_a_request_whose_owner_changed_fails_in_the_batch_the_others_execute(app, make):
    made = confirmed_requests(make, 3)
    req, web, _ = made[0]
    outsider = make.account("outsider")
    db.session.get(Service, web.id).owner_id = outsider.id
    db.session.commit()
    assert operations.execute_due(50) == 2
    assert fresh(req.id).state == "failed"
    assert db.session.get(Service, web.id).owner_id == outsider.id
    assert json.loads(fresh(req.id).failure_reason)["reasons"][0]["code"] == "changed"
    for other, other_web, svoboda in made[1:]:
        assert_executed_once(other, other_web, svoboda)


def statements_of(run):
    """How many SQL statements ``run()`` sends."""
    counted = []

    def count(*_args):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(counted)


def test_a_batch_sends_as_many_statements_for_six_requests_as_for_two(app, make):
    webhooks.create_endpoint("https://hooks.example/all")  # its deliveries are written too
    db.session.commit()
    counts, executed = [], []
    for first, n in ((0, 2), (10, 6)):
        for i in range(first, first + n):
            confirmed_request(make, i)
        db.session.commit()
        counts.append(statements_of(lambda: executed.append(operations.execute_due(50))))
    assert executed == [2, 6]
    assert counts[0] == counts[1]


def test_a_batch_queues_each_end_for_the_endpoints_that_want_it_in_order(app, make):
    every = webhooks.create_endpoint("https://hooks.example/all")
    failures = webhooks.create_endpoint("https://hooks.example/failures", ["transfer_failed"])
    db.session.commit()
    made = confirmed_requests(make, 3)
    db.session.get(Service, made[0][1].id).owner_id = make.account("outsider").id
    db.session.commit()
    assert operations.execute_due(50) == 2
    ends = [
        (d.endpoint_id, d.event.action, int(d.event.object_id))
        for d in db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        if d.event.action in ("transfer_executed", "transfer_failed")
    ]
    first, second, third = (req.id for req, _, _ in made)
    assert ends == [
        (every.id, "transfer_failed", first),
        (failures.id, "transfer_failed", first),
        (every.id, "transfer_executed", second),
        (every.id, "transfer_executed", third),
    ]


def test_batches_of_two_execute_everything(app, app_config, make):
    app.config["EXECUTOR_BATCH"] = 2
    made = confirmed_requests(make, 5)
    assert operations.execute_due(4) == 4  # the limit holds across batches
    assert operations.execute_due(50) == 1
    for req, web, svoboda in made:
        assert_executed_once(req, web, svoboda)


CHILD = """
import json, os, sys, time
from cession_app import create_app
from cession_app.transfers import executor

app = create_app(json.loads(os.environ["CHILD_CONFIG"]))
original, done = executor._execute_one, []


def slow(request, known):
    result = original(request, known)
    done.append(request.id)
    if len(done) == 3:  # three requests moved in their savepoints, nothing committed
        open(os.environ["CHILD_MARK"], "w").close()
        time.sleep(120)
    return result


executor._execute_one = slow
with app.app_context():
    executor.execute_due(50)
"""


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_no_half_moved_request(
    app, app_config, make, tmp_path
):
    made = confirmed_requests(make, 6)
    owners = {req.id: req.from_account_id for req, _, _ in made}
    db.session.remove()
    mark = tmp_path / "mid-batch"
    env = {
        **os.environ,
        "CHILD_CONFIG": json.dumps(app_config),
        "CHILD_MARK": str(mark),
        "PYTHONPATH": str(ROOT),
    }
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert child.poll() is None, "the worker ended before the middle of its batch"
            assert time.monotonic() < deadline, "the worker never reached the middle of a batch"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    for req, web, _ in made:
        assert_untouched(req, web, owners[req.id])
    assert outbox("request_ended") == []
    # The next run completes every request (PostgreSQL may need a moment to see the
    # killed connection and release its locks).
    executed, deadline = 0, time.monotonic() + 30
    while executed < 6 and time.monotonic() < deadline:
        executed += operations.execute_due(50)
        time.sleep(0.1)
    assert executed == 6
    for req, web, svoboda in made:
        assert_executed_once(req, web, svoboda)
    assert len(outbox("request_ended")) == 6 * 2


def test_two_workers_in_batches_execute_each_request_exactly_once(app, make, smtp):
    app.config["EXECUTOR_BATCH"] = 2
    made = confirmed_requests(make, 9)

    def work():
        total = 0
        while n := executor.execute_due(50):
            total += n
        return total

    results = in_threads(app, work, [(), ()])
    assert sum(results) == 9
    for req, web, svoboda in made:
        assert_executed_once(req, web, svoboda)
    assert len(outbox("request_ended")) == 9 * 2
