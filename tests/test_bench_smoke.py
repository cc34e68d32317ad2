"""The benchmark's data generator at a tiny scale, so the bench code cannot rot."""

from sqlalchemy import func, or_, select

from bench import generate
from cession_app.extensions import db
from cession_app.models import (
    Account,
    PaymentRequest,
    Service,
    TransferItem,
    TransferParty,
    TransferRequest,
)

# The migrations' env.py asks Flask-SQLAlchemy for get_engine() first (deprecated), then falls back.


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_generator_fills_a_migrated_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    result = generate.generate(url, 200)

    app = generate.bench_app(url)
    with app.app_context():
        assert _count(Service) == result["counts"]["services"] == 200
        assert _count(Account) == result["counts"]["accounts"] == 40
        assert _count(PaymentRequest) == result["counts"]["payment_requests"] == 40
        assert _count(TransferRequest) == result["counts"]["transfer_requests"] == 50
        assert _count(TransferItem) == result["counts"]["transfer_items"]
        assert _count(TransferParty) == 2 * _count(TransferRequest)
        states = set(db.session.scalars(select(TransferRequest.state).distinct()))
        assert {"awaiting", "executed", "declined", "cancelled", "expired"} <= states
        # The probe: exactly 50 services and 50 requests, and a password that works.
        probe = db.session.scalar(select(Account).filter_by(login=generate.PROBE_LOGIN))
        mine = or_(Service.owner_id == probe.id, Service.payer_id == probe.id)
        assert _count(Service, mine) == 50
        assert _count(TransferParty, TransferParty.account_id == probe.id) == 50
        assert probe.check_password(generate.PASSWORD)
        db.session.remove()
    pairs = generate.open_probe_parties(app)
    assert pairs
    tokens = generate.confirmation_tokens(app, pairs)
    assert len(tokens) == len(pairs) and all(token for _, token in tokens)


def test_added_batches_are_ready_for_the_executor(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    generate.generate(url, 200)
    app = generate.bench_app(url)
    ids = generate.add_requests(app, 5, "confirmed", "t")
    with app.app_context():
        confirmed = TransferRequest.id.in_(ids), TransferRequest.state == "confirmed"
        assert _count(TransferRequest, *confirmed) == 5
        assert _count(TransferItem, TransferItem.request_id.in_(ids), TransferItem.active) == 10
        unconfirmed = TransferParty.request_id.in_(ids), TransferParty.confirmed_at.is_(None)
        assert _count(TransferParty, *unconfirmed) == 0
        db.session.remove()


def test_the_staff_search_page_of_the_bench_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    generate.generate(url, 200)
    app = generate.bench_app(url, WTF_CSRF_ENABLED=False, TWO_FACTOR_REQUIRED_FOR_STAFF=False)
    domain = generate.request_domain(app, 2)
    client = app.test_client()
    login = {"login": generate.PROBE_LOGIN, "password": generate.PASSWORD}
    assert client.post("/login", data=login).status_code == 302
    page = client.get(f"/staff/search?q={domain}")
    assert page.status_code == 200 and 'href="/staff/requests/' in page.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_the_report_gives_every_target_of_issue_16_with_pass_or_fail():
    from bench.__main__ import ISSUE_TARGETS, _row, issue_targets, text_table

    figures = []
    for backend, rate in (("sqlite", 900.0), ("postgresql", 450.0)):
        target = 800 if backend == "sqlite" else 500
        _row(figures, backend, "executor", rate, f">= {target}", rate >= target, "/s", "exec_one")
        _row(figures, backend, "twice", 0, "0", True, key="exec_twice")
    head, lines = issue_targets(figures)
    assert head == ("target of issue 16", "sqlite", "postgresql", "target", "result")
    assert len(lines) == len(ISSUE_TARGETS)
    by_name = {line[0]: line for line in lines}
    assert by_name["executor, one worker"][1:3] == ("900.0 /s", "450.0 /s")
    assert by_name["executor, one worker"][-1] == "FAIL"
    assert by_name["requests executed twice"][-1] == "pass"
    assert by_name["log-in page / bare"][-1] == "n/a"
    assert "FAIL" in text_table(head, lines)


def test_a_page_is_compared_with_the_bare_route_measured_in_its_own_rounds(monkeypatch):
    """A machine that slows down during the run moves both sides of a ratio alike: a page's
    throughput is divided by the bare route's from the same rounds, not by one measured
    minutes before."""
    from bench import load
    from bench.__main__ import figures_for

    rounds = [
        {"rps": r, "p50_ms": p, "p99_ms": 2 * p} for r, p in ((100, 4.0), (300, 1.0), (200, 2.0))
    ]
    combined = load.combine(rounds)
    assert combined["rps"] == 200.0 and combined["p50_ms"] == 2.0 and combined["slices"] == 3
    page = {"rps": 150.0, "p50_ms": 6.0, "p99_ms": 9.0, "bare_rps": 1000.0}
    small_page = {"rps": 160.0, "p50_ms": 5.0, "p99_ms": 9.0}
    raw = {
        "generation": {
            s: {"counts": {"services": 1}, "seconds": 1, "rows_per_second": 1}
            for s in ("small", "large")
        },
        "pages": {
            "large": {"bare": {"rps": 5000.0, "p50_ms": 1, "p99_ms": 1}, "detail": page},
            "small": {"detail": small_page},
        },
        "sql": {},
        "exec_one": {"missing": "n/a"},
        "latency": {"missing": "n/a"},
    }
    from bench import __main__ as bench_main

    monkeypatch.setattr(bench_main, "PAGES", tuple(p for p in bench_main.PAGES if p[0] == "detail"))
    plan = bench_main.scale_plan("quick")
    rows = {row["key"]: row for row in figures_for("sqlite", raw, plan)}
    assert rows["page:detail"]["value"] == 0.15  # 150 / 1000, not 150 / 5000
    assert rows["size:detail"]["value"] == 1.2


def test_executor_runs_are_combined_into_one_figure_that_keeps_every_duplicate():
    """The executor runs alternate (one, two, two, one workers on PostgreSQL): each figure
    is the mean of its runs, and a request executed twice in any run is reported."""
    from bench.measure import combine_runs

    runs = [
        {"requests": 300, "workers": 1, "per_process": [300], "rate": 900.0, "duplicates": 0},
        {"requests": 300, "workers": 1, "per_process": [300], "rate": 1100.0, "duplicates": 1},
    ]
    combined = combine_runs(runs)
    assert combined["rate"] == 1000.0 and combined["rates"] == [900.0, 1100.0]
    assert combined["duplicates"] == 1 and combined["runs"] == 2
    assert combine_runs([{"missing": "n/a (execute_due missing)"}]) == {
        "missing": "n/a (execute_due missing)"
    }
