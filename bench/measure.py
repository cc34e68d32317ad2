"""In-process measurements: SQL statements per page, the executor, confirmation to executed."""

import inspect
import json
import os
import statistics
import subprocess
import sys
import time

from sqlalchemy import event, func, select

from cession_app import freeze_startup
from cession_app.extensions import db
from cession_app.models import AuditEvent, Service, TransferItem, TransferParty, TransferRequest

from .generate import SECRET_KEY, add_requests, bench_app
from .load import ROOT, USER_AGENT

MISSING = "n/a (endpoint missing)"


def _operations():
    from cession_app.transfers import operations

    return operations


# ---------------------------------------------------------------- SQL statements per page
def sql_per_page(url, pages, probe):
    """{page: statements} for one GET of each page (after a warm-up), counted by SQLAlchemy."""
    app = bench_app(url, WTF_CSRF_ENABLED=False, TWO_FACTOR_REQUIRED_FOR_STAFF=False)
    counted = []
    found = {}
    with app.app_context():  # only to reach the engine: requests push their own contexts
        event.listen(db.engine, "before_cursor_execute", lambda *a: counted.append(1))
    user = app.test_client()
    user.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    resp = user.post("/login", data={"login": probe["login"], "password": probe["password"]})
    if resp.status_code != 302:
        raise RuntimeError(f"in-process log-in failed: HTTP {resp.status_code}")
    for key, path, logged_in in pages:
        if path is None:
            found[key] = MISSING
            continue
        client = user if logged_in else app.test_client()
        client.get(path)
        counted.clear()
        status = client.get(path).status_code
        found[key] = len(counted) if status == 200 else _status_text(status)
    with app.app_context():
        db.engine.dispose()
    return found


def _status_text(status):
    return MISSING if status == 404 else f"n/a (HTTP {status})"


# ---------------------------------------------------------------- executor
def executor_child(url, start_at, limit):
    """Body of one executor process: wait for the common start, execute until nothing is due."""
    app = bench_app(url)
    with app.app_context():
        execute_due = _operations().execute_due
        db.session.execute(select(1))  # connect before the clock starts
        db.session.commit()
        freeze_startup()  # as ``flask worker`` does
        while time.time() < start_at:
            time.sleep(0.001)
        started, total = time.time(), 0
        while n := execute_due(limit):
            total += n
        ended = time.time()
        db.session.remove()
    print(json.dumps({"count": total, "start": started, "end": ended}))


def executor_rate(url, n_requests, workers, tag, limit=50):
    """Transfers executed per second by ``workers`` processes on a fresh batch of confirmed
    requests; checks that every request was executed exactly once."""
    if not hasattr(_operations(), "execute_due"):
        return {"missing": "n/a (execute_due missing)"}
    app = bench_app(url)
    ids = add_requests(app, n_requests, "confirmed", tag)
    start_at = time.time() + 4.0  # every process connected by then
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "bench.executor_child", url, str(start_at), str(limit)]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        if proc.returncode:
            raise RuntimeError("an executor process failed")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    check = _check_once(app, ids)
    reported = sum(r["count"] for r in reports)
    return {
        "requests": n_requests,
        "workers": workers,
        "per_process": [r["count"] for r in reports],
        "seconds": round(elapsed, 3),
        "rate": round(check["executed"] / elapsed, 1) if elapsed > 0 else None,
        "duplicates": max(reported - check["ended"], 0) + check["double_audit"],
        **check,
    }


def combine_runs(runs):
    """One figure of several executor runs of as many workers: the mean rate, requests
    executed twice added up (any run's counts), the first run's split between processes."""
    missing = next((run for run in runs if "missing" in run), None)
    if missing is not None:
        return missing
    rates = [run["rate"] for run in runs]
    return {
        **runs[0],
        "rate": round(sum(rates) / len(rates), 1) if None not in rates else None,
        "rates": rates,
        "runs": len(runs),
        "duplicates": sum(run["duplicates"] for run in runs),
    }


def _check_once(app, ids):
    """How the batch ended: executed, failed, services moved, audit events of an execution."""
    with app.app_context():
        states = dict(
            db.session.execute(
                select(TransferRequest.state, func.count())
                .where(TransferRequest.id.in_(ids))
                .group_by(TransferRequest.state)
            ).all()
        )
        moved = db.session.scalar(
            select(func.count())
            .select_from(TransferItem)
            .join(Service, Service.id == TransferItem.service_id)
            .where(TransferItem.request_id.in_(ids), Service.owner_id == TransferItem.new_owner_id)
        )
        per_request = (
            select(AuditEvent.object_id, func.count().label("n"))
            .where(AuditEvent.object_id.in_([str(i) for i in ids]))
            .where(AuditEvent.action.like("%execut%"))
            .group_by(AuditEvent.object_id)
            .subquery()
        )
        double = db.session.scalar(
            select(func.count()).where(per_request.c.n > 1).select_from(per_request)
        )
        db.session.remove()
        db.engine.dispose()
    ended = sum(v for k, v in states.items() if k not in ("awaiting", "confirmed"))
    return {
        "executed": states.get("executed", 0),
        "failed": states.get("failed", 0),
        "ended": ended,
        "services_moved": moved,
        "double_audit": double or 0,
    }


# ---------------------------------------------------------------- confirmation to executed
def _call_confirm(confirm, request, party, account):
    """Call operations.confirm whatever it names its arguments (request, party or account)."""
    values = {
        "request": request,
        "transfer": request,
        "transfer_request": request,
        "party": party,
        "account": account,
        "actor": account,
        "user": account,
    }
    args, kwargs = [], {}
    for name, param in inspect.signature(confirm).parameters.items():
        if param.default is not param.empty or param.kind in (
            param.VAR_POSITIONAL,
            param.VAR_KEYWORD,
        ):
            continue
        if name not in values:
            raise TypeError(f"operations.confirm has an unknown parameter: {name}")
        if param.kind == param.KEYWORD_ONLY:
            kwargs[name] = values[name]
        else:
            args.append(values[name])
    return confirm(*args, **kwargs)


def _wait_executed(request_id, timeout=30.0):
    """Seconds until the request is executed (polled every 5 ms), or None on timeout."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        with db.engine.connect() as conn:
            state = conn.scalar(
                select(TransferRequest.state).where(TransferRequest.id == request_id)
            )
        if state not in ("awaiting", "confirmed"):
            return time.perf_counter() - t0
        time.sleep(0.005)
    return None


def confirm_to_executed(url, n_requests, tag):
    """Run ``flask worker`` at its defaults; confirm requests one by one; time each to executed."""
    ops = _operations()
    if not hasattr(ops, "confirm") or not hasattr(ops, "execute_due"):
        return {"missing": "n/a (operations.confirm or execute_due missing)"}
    app = bench_app(url)
    canary = add_requests(app, 1, "confirmed", f"{tag}c")[0]
    ids = add_requests(app, n_requests, "awaiting", tag)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "MAIL_SERVER": ""}
    env.pop("WORKER_INTERVAL", None)
    env.pop("FLASK_DEBUG", None)
    cmd = [sys.executable, "-m", "flask", "--app", "cession_app", "worker"]
    worker = subprocess.Popen(cmd, cwd=ROOT, env=env)
    times = []
    try:
        with app.app_context():
            if _wait_executed(canary, timeout=60) is None:
                return {"missing": "n/a (the worker executed nothing in 60 s)"}
            for request_id in ids:
                request = db.session.get(TransferRequest, request_id)
                party = db.session.scalar(
                    select(TransferParty).where(
                        TransferParty.request_id == request_id,
                        TransferParty.confirmed_at.is_(None),
                    )
                )
                _call_confirm(ops.confirm, request, party, party.account)
                db.session.commit()
                elapsed = _wait_executed(request_id)
                db.session.remove()
                if elapsed is None:
                    break
                times.append(elapsed)
            db.engine.dispose()
    finally:
        worker.terminate()
        worker.wait(20)
    if not times:
        return {"missing": "n/a (no request executed within 30 s)"}
    return {
        "requests": len(times),
        "timeouts": n_requests - len(times),
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
    }
