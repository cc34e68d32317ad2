"""The worker: one pass, the loop's speed, the CLI, and concurrency (exactly once)."""

import logging
import threading
import time

from cession_app import worker
from cession_app.extensions import db
from cession_app.models import Service, TransferRequest
from cession_app.transfers import operations
from tests.lifecycle_helpers import audit_actions, deliver, fresh, outbox, push


def confirmed_request(make, n):
    """A request of novak<n> to svoboda<n>, confirmed by both."""
    novak = make.account(f"novak{n}")
    svoboda = make.account(f"svoboda{n}")
    web = make.service(novak, domain=f"novak{n}.cz")
    req = push(make, novak, svoboda, web)
    for party in list(req.parties):
        operations.confirm(req, party)
    assert fresh(req.id).state == "confirmed"
    return req, web, svoboda


def in_threads(app, target, args_list):
    """Run ``target(*args)`` in one thread each (own app context and session), together."""
    barrier = threading.Barrier(len(args_list))
    results, errors = [None] * len(args_list), []

    def run(i, args):
        with app.app_context():
            try:
                barrier.wait(10)
                results[i] = target(*args)
            except Exception as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_run_once_counts_the_work(app, make, smtp):
    req, web, svoboda = confirmed_request(make, 1)
    counts = deliver()
    assert counts == {"executed": 1, "expired": 0, "reminded": 0, "mails": 4, "webhooks": 0}
    assert db.session.get(Service, web.id).owner_id == svoboda.id
    assert deliver() == {"executed": 0, "expired": 0, "reminded": 0, "mails": 0, "webhooks": 0}


def test_a_progress_line_per_executed_request(app, make, smtp, caplog):
    req, _, _ = confirmed_request(make, 1)
    with caplog.at_level(logging.INFO, logger="cession"):
        deliver()
    assert any(f"transfer request {req.id} executed" in r.getMessage() for r in caplog.records)


def test_cli_worker_once(app, runner, make, smtp):
    req, web, svoboda = confirmed_request(make, 1)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert fresh(req.id).state == "executed"
    assert len(smtp.to(svoboda.email)) == 2  # the link, then the news


def test_worker_loop_executes_within_seconds_of_the_last_confirmation(app, make, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    req = push(make, novak, svoboda, web)
    stop = threading.Event()

    def loop():
        with app.app_context():
            worker.run(stop=stop)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        time.sleep(0.3)
        for party in list(req.parties):
            operations.confirm(req, party)
        confirmed = time.monotonic()
        while fresh(req.id).state != "executed" and time.monotonic() - confirmed < 10:
            time.sleep(0.05)
        elapsed = time.monotonic() - confirmed
    finally:
        stop.set()
        thread.join(10)
    assert fresh(req.id).state == "executed"
    assert elapsed < 5


def test_two_parallel_confirmations_confirm_the_request(app, make):
    requests = []
    for n in range(4):
        novak = make.account(f"novak{n}")
        svoboda = make.account(f"svoboda{n}")
        requests.append(push(make, novak, svoboda, make.service(novak, domain=f"n{n}.cz")))
    db.session.commit()

    def confirm(request_id, account_id):
        req = db.session.get(TransferRequest, request_id)
        return operations.confirm(req, req.party_for(account_id)).state

    for req in requests:
        ids = [(req.id, p.account_id) for p in req.parties]
        states = in_threads(app, confirm, ids)
        assert sorted(states) == ["awaiting", "confirmed"]
        assert fresh(req.id).state == "confirmed"
        assert audit_actions(req.id).count("transfer_fully_confirmed") == 1


def test_two_workers_execute_each_request_exactly_once(app, make, smtp):
    made = [confirmed_request(make, n) for n in range(5)]
    db.session.commit()

    results = in_threads(app, operations.execute_due, [(20,), (20,)])
    assert sum(results) == 5
    for req, web, svoboda in made:
        assert fresh(req.id).state == "executed"
        assert audit_actions(req.id).count("transfer_executed") == 1
        assert db.session.get(Service, web.id).owner_id == svoboda.id
    assert len(outbox("request_ended")) == 5 * 2  # each party told once


def test_two_workers_and_a_late_cancel(app, make, smtp):
    """A cancel racing the workers either wins (nothing moves) or loses (executed), never both."""
    req, web, svoboda = confirmed_request(make, 1)
    initiator = fresh(req.id).initiator
    db.session.commit()

    def cancel(request_id, account_id):
        from cession_app.models import Account

        try:
            operations.cancel(
                db.session.get(TransferRequest, request_id), db.session.get(Account, account_id)
            )
        except operations.ActionRefused:
            return "refused"
        return "cancelled"

    def execute(request_id, account_id):
        return operations.execute_due(5)

    jobs = [(cancel, req.id, initiator.id), (execute, req.id, 0)]
    results = in_threads(app, lambda job, *args: job(*args), jobs)
    state = fresh(req.id).state
    owner = db.session.get(Service, web.id).owner_id
    if state == "cancelled":
        assert results == ["cancelled", 0] and owner != svoboda.id
    else:
        assert state == "executed" and results == ["refused", 1] and owner == svoboda.id


def test_a_setting_staff_change_applies_from_the_next_pass(app):
    from cession_app import site_settings
    from cession_app.models import SiteSetting

    assert site_settings.get("REQUIRE_APPROVAL") is False  # read, and kept for the pass
    db.session.add(SiteSetting(name="REQUIRE_APPROVAL", value=True))  # another process
    db.session.commit()
    assert site_settings.get("REQUIRE_APPROVAL") is False
    worker.run_once()
    assert site_settings.get("REQUIRE_APPROVAL") is True
