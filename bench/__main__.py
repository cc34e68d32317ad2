"""``python -m bench --scale quick|full|N``: generate, serve, load, measure, report.

Prints one table and writes every figure to ``bench/out/results.json``.
"""

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url

from . import generate, load, measure

OUT = Path(__file__).resolve().parent / "out"
BARE = "/bare/"
# key, label, logged in
PAGES = (
    ("login", "log-in page", False),
    ("services", "My services", True),
    ("transfers", "transfer page with overview", True),
    ("detail", "a request's details", True),
    ("respond", "a confirmation link's page", False),
    ("staff_search", "staff search by domain", True),
)
# The targets of issue 16 (measured side by side in one run, full scale, both databases).
PAGE_TARGETS = {  # throughput / the bare route's
    "login": 0.30,
    "services": 0.10,
    "transfers": 0.10,
    "detail": 0.15,
    "respond": 0.20,
}
TARGETS = {
    "size_ratio": 1.3,
    "sql": 6,
    "exec_one": {"sqlite": 800.0, "postgresql": 500.0},
    "exec_two": 1.6,
    "latency_median": 0.1,
    "rss_peak_mb": 90.0,
    "rss_after_mb": 75.0,
}


def scale_plan(scale):
    """Sizes, durations and batch sizes of a scale (quick, full, or a number of services)."""
    if scale == "quick":
        return {"small": 1_000, "large": 10_000, "seconds": 2, "exec": 300, "latency": 10}
    if scale == "full":
        return {"small": 1_000, "large": 1_000_000, "seconds": 5, "exec": 2_000, "latency": 20}
    large = int(scale)
    big = large > 100_000
    return {
        "small": min(1_000, large),
        "large": large,
        "seconds": 5 if big else 2,
        "exec": 2_000 if big else 300,
        "latency": 20 if big else 10,
    }


def human(n):
    """1000 -> 1k, 1000000 -> 1M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


def page_paths(url, data):
    """(key, path or None, logged in) of each measured page on a data set."""
    app = generate.bench_app(url)
    probe = data["probe"]
    try:
        pairs = generate.open_probe_parties(app, probe["account_id"])
        token = generate.confirmation_tokens(app, pairs[:1])
    except AttributeError:  # no operations.confirm_token on this branch
        token = []
    respond = f"/transfers/requests/{token[0][0]}/respond/{token[0][1]}" if token else None
    search = "/staff/search?q=" + generate.request_domain(app, probe["detail_request_id"])
    paths = {
        "login": "/login",
        "services": "/services/",
        "transfers": "/transfers/",
        "detail": f"/transfers/requests/{probe['detail_request_id']}",
        "respond": respond,
        "staff_search": search,
    }
    return [(key, paths[key], logged_in) for key, _label, logged_in in PAGES]


def slices(seconds):
    """(rounds, seconds each) that a page's load is cut into: 5 s -> 3 rounds of 2 s."""
    return (3, max(1, seconds // 2)) if seconds >= 4 else (2, max(1, seconds // 2))


def measure_pages(urls, datas, seconds):
    """Serve both data sets side by side and load the bare route and every page.

    Two gunicorns, one per data set (``urls`` and ``datas`` by size), only one loaded at a
    time. For every page, in rounds: the page on the large set, the bare route on the same
    server, the page on the small set. So each page's throughput is compared with the bare
    route measured next to it, and its p50 at the large set with its p50 at the small set
    measured next to it: a shared machine that gets slower or faster during the run moves
    both sides of each ratio alike. Peak RSS is the large set's workers'.
    """
    rounds, each = slices(seconds)
    env = {
        "SECRET_KEY": generate.SECRET_KEY,
        "MAIL_SERVER": "",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "TWO_FACTOR_REQUIRED_FOR_STAFF": "false",  # the probe opens the staff search
    }
    servers, cookies, paths = {}, {}, {}
    try:
        for size in ("small", "large"):
            servers[size] = load.Gunicorn({**env, "DATABASE_URL": urls[size]})
            probe = datas[size]["probe"]
            cookies[size] = load.log_in(servers[size].port, probe["login"], probe["password"])
            paths[size] = page_paths(urls[size], datas[size])
        large, small = servers["large"].port, servers["small"].port
        found = {"small": {}, "large": {}}
        bare_all = []
        for (key, path, logged_in), (_, small_path, _) in zip(
            paths["large"], paths["small"], strict=True
        ):
            cookie = cookies["large"] if logged_in else None
            small_cookie = cookies["small"] if logged_in else None
            checked = _check_page(large, path, cookie), _check_page(small, small_path, small_cookie)
            if any(checked):
                found["large"][key] = found["small"][key] = next(c for c in checked if c)
                continue
            page, bare, page_small = [], [], []
            for _ in range(rounds):
                page.append(load.load(large, path, each, cookie))
                bare.append(load.load(large, BARE, each))
                page_small.append(load.load(small, small_path, each, small_cookie))
            bare_all += bare
            found["large"][key] = {
                **load.combine(page),
                "bare_rps": load.combine(bare)["rps"],
                **_still_answering(large, path, cookie),
            }
            found["small"][key] = load.combine(page_small)
        found["large"]["bare"] = load.combine(bare_all or [load.load(large, BARE, each)])
        found["large"]["rss_mb"] = servers["large"].peak_rss_mb()
        found["large"]["rss_now_mb"] = servers["large"].peak_rss_mb("VmRSS")
    finally:
        for server in servers.values():
            server.stop()
    return found, paths["large"]


def _check_page(port, path, cookie):
    """None when the page answers 200, else what to report instead of its figures."""
    if path is None:
        return {"missing": measure.MISSING}
    status = load.get(port, path, cookie)[0]
    if status != 200:
        return {"missing": measure.MISSING if status == 404 else f"n/a (HTTP {status})"}
    return None


def _still_answering(port, path, cookie):
    if load.get(port, path, cookie)[0] != 200:
        return {"missing": "n/a (the page stopped answering 200 under load)"}
    return {}


def run_backend(name, url_for, plan, log):
    """Every measurement on one database backend; returns the raw results."""
    raw = {"generation": {}}
    urls = {size: url_for(size) for size in ("small", "large")}
    for size in ("small", "large"):
        n = plan[size]
        log(f"[{name}] generating {human(n)} services ...")
        data = generate.generate(urls[size], n)
        raw["generation"][size] = data
        log(f"[{name}] {human(n)}: {data['counts']} in {data['seconds']} s")
    rounds, each = slices(plan["seconds"])
    log(f"[{name}] serving both, loading every page: {rounds} rounds of {each} s per side")
    raw["pages"], paths = measure_pages(urls, raw["generation"], plan["seconds"])
    url = url_for("large")
    log(f"[{name}] SQL statements per page")
    raw["sql"] = measure.sql_per_page(url, paths, raw["generation"]["large"]["probe"])
    # Alternated (one, two, two, one on PostgreSQL): a machine that changes speed during
    # these seconds moves both sides of the two-worker ratio alike.
    order = (1, 2, 2, 1) if name == "postgresql" else (1, 1)
    log(f"[{name}] executor: runs of {', '.join(map(str, order))} worker(s)")
    runs = {1: [], 2: []}
    for tag, workers in zip("abcd", order, strict=False):
        runs[workers].append(measure.executor_rate(url, plan["exec"], workers, f"x{tag}"))
    raw["exec_one"] = measure.combine_runs(runs[1])
    if runs[2]:
        raw["exec_two"] = measure.combine_runs(runs[2])
    log(f"[{name}] last confirmation to executed, worker at its defaults")
    raw["latency"] = measure.confirm_to_executed(url, plan["latency"], "lt")
    return raw


# ---------------------------------------------------------------- figures
def _row(figures, backend, name, value, target=None, ok=None, unit="", key=None):
    figures.append(
        {
            "backend": backend,
            "figure": name,
            "value": value,
            "unit": unit,
            "target": target,
            "pass": ok,
            "key": key,
        }
    )


def figures_for(backend, raw, plan):
    """The rows of the table for one backend."""
    rows = []
    small, large = human(plan["small"]), human(plan["large"])
    for size in ("small", "large"):
        gen = raw["generation"][size]
        rows_total = sum(gen["counts"].values())
        _row(
            rows,
            backend,
            f"generate {human(plan[size])} services ({rows_total} rows)",
            gen["seconds"],
            unit="s",
        )
    _row(
        rows,
        backend,
        "generation rate",
        raw["generation"]["large"]["rows_per_second"],
        unit="rows/s",
    )
    pages_l, pages_s = raw["pages"]["large"], raw["pages"]["small"]
    bare = pages_l["bare"]
    _row(rows, backend, f"bare Flask route ({large})", _load_text(bare), unit="")
    labels = {key: label for key, label, _ in PAGES}
    for key, label, _ in PAGES:
        page = pages_l[key]
        wanted = PAGE_TARGETS.get(key)
        target = f">= {wanted:.2f}" if wanted else None
        name = f"{label} ({large}): throughput / bare"
        if "missing" in page:
            _row(rows, backend, name, page["missing"], target, key=f"page:{key}")
            continue
        ratio = round(page["rps"] / page.get("bare_rps", bare["rps"]), 3)
        ok = ratio >= wanted if wanted else None
        unit = f"x  [{_load_text(page)}]"
        _row(rows, backend, name, ratio, target, ok, unit=unit, key=f"page:{key}")
    for key, label, _ in PAGES:
        a, b = pages_s[key], pages_l[key]
        name = f"{label}: p50 at {large} / at {small}"
        if "missing" in a or "missing" in b:
            _row(
                rows,
                backend,
                name,
                a.get("missing") or b.get("missing"),
                f"<= {TARGETS['size_ratio']}",
                key=f"size:{key}",
            )
            continue
        ratio = round(b["p50_ms"] / a["p50_ms"], 3)
        _row(
            rows,
            backend,
            name,
            ratio,
            f"<= {TARGETS['size_ratio']}",
            ratio <= TARGETS["size_ratio"],
            unit=f"x  [{a['p50_ms']} -> {b['p50_ms']} ms]",
            key=f"size:{key}",
        )
    for key, value in raw["sql"].items():
        name = f"SQL statements: {labels[key]} (probe: 50 services, 50 requests)"
        ok = value <= TARGETS["sql"] if isinstance(value, int) else None
        _row(rows, backend, name, value, f"<= {TARGETS['sql']}", ok)
    _executor_rows(rows, backend, raw)
    lat = raw["latency"]
    if "missing" in lat:
        _row(
            rows,
            backend,
            "last confirmation -> executed: median",
            lat["missing"],
            "< 0.1 s",
            key="latency",
        )
    else:
        _row(
            rows,
            backend,
            f"last confirmation -> executed: median ({lat['requests']} requests)",
            lat["median_s"],
            "< 0.1 s",
            lat["median_s"] < TARGETS["latency_median"],
            unit="s",
            key="latency",
        )
        _row(rows, backend, "last confirmation -> executed: max", lat["max_s"], unit="s")
    rss, rss_now = pages_l.get("rss_mb"), pages_l.get("rss_now_mb")
    # The peak comes from log-in: argon2id is memory-hard by design (7 MiB per hash).
    _row(
        rows,
        backend,
        "web worker peak RSS (VmHWM; argon2id at log-in)",
        rss,
        "< 90 MB",
        rss is not None and rss < TARGETS["rss_peak_mb"],
        unit="MB",
        key="rss_peak",
    )
    _row(
        rows,
        backend,
        "web worker RSS after the load (VmRSS)",
        rss_now,
        "< 75 MB",
        rss_now is not None and rss_now < TARGETS["rss_after_mb"],
        unit="MB",
        key="rss_after",
    )
    return rows


def _executor_rows(rows, backend, raw):
    one = raw["exec_one"]
    wanted = TARGETS["exec_one"].get(backend, 500.0)
    target = f">= {wanted:.0f}/s"
    if "missing" in one:
        _row(rows, backend, "executor: transfers/s, one worker", one["missing"], target)
        return
    _row(
        rows,
        backend,
        f"executor: transfers/s, one worker ({one['requests']} requests, mean of"
        f" {one.get('runs', 1)} runs: {one.get('rates', [one['rate']])})",
        one["rate"],
        target,
        (one["rate"] or 0) >= wanted,
        unit="/s",
        key="exec_one",
    )
    _row(
        rows,
        backend,
        "executor, one worker: executed twice",
        one["duplicates"],
        "0",
        one["duplicates"] == 0,
        key="exec_twice",
    )
    two = raw.get("exec_two")
    if not two:
        return
    if "missing" in two:
        _row(rows, backend, "executor: transfers/s, two workers", two["missing"], ">= 1.6x one")
        return
    ratio = round(two["rate"] / one["rate"], 3) if one["rate"] else None
    _row(
        rows,
        backend,
        f"executor: transfers/s, two workers (split {two['per_process']}, mean of"
        f" {two.get('runs', 1)} runs: {two.get('rates', [two['rate']])})",
        two["rate"],
        unit="/s",
    )
    _row(
        rows,
        backend,
        "executor: two workers / one worker",
        ratio,
        ">= 1.6",
        ratio is not None and ratio >= TARGETS["exec_two"],
        unit="x",
        key="exec_two",
    )
    _row(
        rows,
        backend,
        "executor, two workers: executed twice",
        two["duplicates"],
        "0",
        two["duplicates"] == 0,
        key="exec_twice",
    )


# ---------------------------------------------------------------- the issue's targets
# (figure, keys of its rows, target): one line each, every backend's value side by side.
ISSUE_TARGETS = (
    ("executor, one worker", ("exec_one",), ">= 800/s SQLite, >= 500/s PostgreSQL"),
    ("executor, two workers / one (PostgreSQL)", ("exec_two",), ">= 1.6x"),
    ("requests executed twice", ("exec_twice",), "0"),
    ("My services (50 services) / bare", ("page:services",), ">= 0.10"),
    ("transfer page with overview / bare", ("page:transfers",), ">= 0.10"),
    ("a request's details / bare", ("page:detail",), ">= 0.15"),
    ("a confirmation link's page / bare", ("page:respond",), ">= 0.20"),
    ("log-in page / bare", ("page:login",), ">= 0.30"),
    (
        "p50 large / small, every page (staff search included)",
        tuple(f"size:{key}" for key, _label, _ in PAGES),
        "<= 1.3",
    ),
    ("web worker peak RSS", ("rss_peak",), "< 90 MB"),
    ("web worker RSS after the load", ("rss_after",), "< 75 MB"),
    ("last confirmation -> executed, median", ("latency",), "< 0.1 s"),
)


def issue_targets(figures):
    """One row per target of issue 16: the measured values per backend, and pass or FAIL
    (a target passes when every measured row of it passes)."""
    backends = list(dict.fromkeys(f["backend"] for f in figures if f["backend"] != "-"))
    rows = []
    for name, keys, target in ISSUE_TARGETS:
        found = [f for f in figures if f.get("key") in keys]
        values = []
        for backend in backends:
            mine = [f for f in found if f["backend"] == backend]
            values.append(", ".join(_short(f) for f in mine) or "-")
        verdicts = [f["pass"] for f in found]
        if not found:
            result = "n/a"
        elif any(v is False for v in verdicts):
            result = "FAIL"
        elif all(v is True for v in verdicts):
            result = "pass"
        else:
            result = "n/a"
        rows.append((name, *values, target, result))
    return ("target of issue 16", *backends, "target", "result"), rows


def _short(figure):
    value = figure["value"]
    if value is None:
        return "n/a"
    unit = figure["unit"] if figure["unit"] in ("/s", "x", "MB", "s") else ""
    return f"{value}{' ' + unit if unit else ''}"


def _load_text(result):
    if "missing" in result:
        return result["missing"]
    text = f"{result['rps']:.0f} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
    if result.get("bad_responses") or result.get("socket_errors"):
        text += f", {result['bad_responses']} bad, {result['socket_errors']} socket errors"
    return text


# ---------------------------------------------------------------- report
def machine():
    """nproc, memory and CPU model of this machine."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
    }


def table(figures):
    """The figures as one plain-text table."""
    head = ("backend", "figure", "value", "target", "result")
    lines = []
    for f in figures:
        value = f"{f['value']} {f['unit']}".strip() if f["value"] is not None else "n/a"
        result = {True: "pass", False: "FAIL", None: "-"}[f["pass"]]
        if f["target"] and f["pass"] is None and str(f["value"]).startswith("n/a"):
            result = "n/a"
        lines.append((f["backend"], f["figure"], value, f["target"] or "", result))
    return text_table(head, lines)


def text_table(head, lines):
    """Rows of cells as a plain-text table under ``head``."""
    widths = [max(len(str(row[i])) for row in [head, *lines]) for i in range(len(head))]
    out = [" | ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in lines]
    return "\n".join(out)


def main(argv=None):
    """Run the benchmark at the chosen scale."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", default="full", help="quick, full, or a number of services")
    args = parser.parse_args(argv)
    plan = scale_plan(args.scale)
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)

    def log(message):
        print(f"{time.perf_counter() - started:7.1f}s  {message}", flush=True)

    backends = [("sqlite", lambda size: f"sqlite:///{OUT / f'bench-{size}.sqlite'}")]
    pg_url = os.environ.get("CESSION_BENCH_POSTGRES_URL")
    if pg_url:
        small = make_url(pg_url).set(database=make_url(pg_url).database + "_small")
        small_url = small.render_as_string(hide_password=False)
        # Both data sets are served side by side: the small one in a database of its own.
        backends.append(("postgresql", lambda size: small_url if size == "small" else pg_url))
    else:
        log("CESSION_BENCH_POSTGRES_URL is not set: SQLite only, no two-worker figure")
    figures, raw = [], {}
    for name, url_for in backends:
        raw[name] = run_backend(name, url_for, plan, log)
        figures += figures_for(name, raw[name], plan)
    total = round(time.perf_counter() - started, 1)
    _row(figures, "-", "whole benchmark run", total, unit="s")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "plan": plan,
        "machine": machine(),
        "figures": figures,
        "raw": raw,
    }
    (OUT / "results.json").write_text(json.dumps(report, indent=2, default=str))
    m = report["machine"]
    print(
        f"\n{report['date']}  scale {args.scale}  nproc {m['nproc']}, {m['memory_gib']} GiB,"
        f" {m['cpu']}, Python {m['python']}\n"
    )
    print(table(figures))
    head, lines = issue_targets(figures)
    note = "the issue's figures are at full scale"
    print(f"\nThe targets of issue 16 (scale {args.scale}; {note})\n")
    print(text_table(head, lines))
    report["targets"] = [dict(zip(head, line, strict=True)) for line in lines]
    (OUT / "results.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"\nWritten: {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
