"""Real worker processes (``flask worker``) sharing the outbox: every message goes once.

Two workers at once, on SQLite and PostgreSQL, deliver each message exactly once; a worker
killed (SIGKILL) again and again while it delivers doubles at most the message it had in
flight at each kill (its claim expires after MAIL_CLAIM_TIMEOUT and another worker sends it).
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from cession_app.extensions import db
from cession_app.models import OutboxMessage
from tests.test_mail_failures import put

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, seconds, what):
    """Poll ``condition`` until true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)


class Workers:
    """``flask --app cession_app worker`` processes on the test's database and SMTP server."""

    def __init__(self, app_config, smtp, logs):
        self.env = {
            **os.environ,
            "DATABASE_URL": app_config["DATABASE_URL"],
            "SECRET_KEY": "test-secret",
            "BASE_URL": app_config["BASE_URL"],
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp.port),
            "MAIL_DEFAULT_SENDER": app_config["MAIL_DEFAULT_SENDER"],
            "MAIL_CLAIM_TIMEOUT": "1",
            "MAIL_TIMEOUT": "10",
            "WORKER_INTERVAL": "0.05",
        }
        self.logs = logs
        self.procs = []

    def start(self):
        """Start one more worker; returns its process."""
        log = self.logs / f"worker{len(self.procs)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "cession_app", "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc.log = log
        self.procs.append(proc)
        return proc

    def wait_started(self, proc):
        """Until the worker says it runs."""
        wait_until(lambda: b"worker started" in proc.log.read_bytes(), 60, "the worker to start")

    def stop(self):
        """Kill every worker still running."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def pending():
    """Messages not sent yet."""
    db.session.rollback()
    query = select(func.count()).where(OutboxMessage.status != "sent")
    count = db.session.scalar(query.select_from(OutboxMessage))
    db.session.rollback()
    return count


def received(smtp):
    """How often each message (by its Message-ID) arrived."""
    return Counter(m["Message-ID"] for m in list(smtp.messages))


def test_two_worker_processes_deliver_each_message_once(app, app_config, smtp, tmp_path):
    smtp.delay = 0.01
    workers = Workers(app_config, smtp, tmp_path)
    try:
        for proc in (workers.start(), workers.start()):
            workers.wait_started(proc)
        ids = put(*[f"c{n}@example.test" for n in range(120)])
        wait_until(lambda: pending() == 0, 90, "every message to be sent")
    finally:
        workers.stop()
    counts = received(smtp)
    assert len(counts) == len(ids) and set(counts.values()) == {1}
    claimed_by = db.session.scalars(select(OutboxMessage.claimed_by).distinct()).all()
    assert len(claimed_by) == 2, "both workers should have delivered some"


def test_a_worker_killed_while_delivering_doubles_at_most_the_message_in_flight(
    app, app_config, smtp, tmp_path
):
    smtp.delay = 0.02  # most of a message's time is spent inside the server: in flight
    ids = put(*[f"c{n}@example.test" for n in range(100)])
    workers = Workers(app_config, smtp, tmp_path)
    kills = 0
    try:
        for threshold in (15, 40, 65):
            proc = workers.start()
            wait_until(lambda t=threshold: len(smtp.messages) >= t, 60, f"{threshold} mails")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
        workers.start()
        wait_until(lambda: pending() == 0, 90, "every message to be sent")
    finally:
        workers.stop()
    counts = received(smtp)
    assert len(counts) == len(ids)  # every message arrived
    doubled = sum(n - 1 for n in counts.values())
    assert doubled <= kills, f"{doubled} extra copies after {kills} kills"
