"""The worker: one pass executes confirmed transfers, delivers mail, expires and reminds."""

import time

from flask import current_app

from . import mailer


def run_once():
    """One pass over all the work; returns a dict of counts."""
    return {"mails": mailer.deliver_pending()}


def run(once=False):
    """Loop until interrupted (or a single pass with ``once``)."""
    interval = current_app.config["WORKER_INTERVAL"]
    while True:
        counts = run_once()
        if once:
            return counts
        if not any(counts.values()):
            time.sleep(interval)
