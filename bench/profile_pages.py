"""Profile the measured pages in-process with pyinstrument (a dev dependency).

``python -m bench.profile_pages sqlite:///bench/out/bench-large.sqlite [N]``: on a data set
made by ``make bench`` (or ``bench.generate``), logs in as the probe, then renders each page
N times (after a warm-up) without, then N times under the profiler, and prints per page
the CPU milliseconds and the Python function calls per request (cProfile; unlike time, a
count that other jobs on the machine do not move) and pyinstrument's call tree.
"""

import cProfile
import pstats
import sys
import time

from .__main__ import page_paths
from .generate import PASSWORD, PROBE_LOGIN, bench_app
from .load import USER_AGENT


def profile(url, n=50, pages=None):
    """{page: (CPU ms, Python calls, pyinstrument text) per request} for the bench's pages."""
    from pyinstrument import Profiler

    data = {"probe": _probe(url)}
    paths = page_paths(url, data)
    app = bench_app(url, WTF_CSRF_ENABLED=False, TWO_FACTOR_REQUIRED_FOR_STAFF=False)
    user = app.test_client()
    user.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    user.post("/login", data={"login": PROBE_LOGIN, "password": PASSWORD})
    found = {}
    for key, path, logged_in in paths:
        if path is None or (pages and key not in pages):
            continue
        client = user if logged_in else app.test_client()
        for _ in range(5):
            assert client.get(path).status_code == 200, (key, path)
        started = time.process_time()
        for _ in range(n):
            client.get(path)
        ms = (time.process_time() - started) * 1000 / n
        counter = cProfile.Profile()  # Python calls per request: a figure load does not move
        counter.enable()
        for _ in range(n):
            client.get(path)
        counter.disable()
        calls = pstats.Stats(counter).total_calls // n
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(n):
            client.get(path)
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False, show_all=False)
        found[key] = (ms, calls, text)
    return found


def _probe(url):
    from sqlalchemy import select

    from cession_app.extensions import db
    from cession_app.models import Account, TransferParty, TransferRequest

    app = bench_app(url)
    with app.app_context():
        account_id = db.session.scalar(select(Account.id).where(Account.login == PROBE_LOGIN))
        detail = db.session.scalar(
            select(TransferRequest.id)
            .join(TransferParty, TransferParty.request_id == TransferRequest.id)
            .where(TransferParty.account_id == account_id)
            .order_by(TransferRequest.id)
        )
        db.session.remove()
        db.engine.dispose()
    return {"account_id": account_id, "detail_request_id": detail}


def main(argv=None):
    """Print the profile of every page."""
    argv = sys.argv[1:] if argv is None else argv
    url, n = argv[0], int(argv[1]) if len(argv) > 1 else 50
    for key, (ms, calls, text) in profile(url, n, set(argv[2:]) or None).items():
        print(f"===== {key}: {ms:.2f} CPU ms, {calls} Python calls per request ({n} requests)")
        print(text)


if __name__ == "__main__":
    main()
