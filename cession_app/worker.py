"""The worker: one pass executes confirmed transfers, delivers mail, expires and reminds."""

import logging
import time

from flask import current_app

from . import audit, health, mailer, site_settings
from .extensions import db
from .transfers import operations
from .webhooks import operations as webhooks

log = logging.getLogger("cession.worker")


def run_once(now=None):
    """One pass over all the work; returns a dict of counts.

    Executions go first (they are what customers wait for); mail goes last, so that the
    mails written in this pass leave in it too.
    """
    audit.set_channel("worker")
    site_settings.forget()  # what staff changed since the last pass applies to this one
    health.beat()
    counts = {
        "executed": operations.execute_due(limit=current_app.config["WORKER_BATCH"], now=now),
        "expired": operations.expire_due(now),
        "reminded": operations.remind_due(now),
    }
    # Mails are rendered as they are sent: a long queue must not keep a transfer that has
    # just been confirmed waiting, so delivery stops for it and the next pass executes it.
    counts["mails"] = mailer.deliver_pending(interrupt=lambda: operations.executions_due(now))
    counts["webhooks"] = webhooks.deliver_due()
    return counts


def run(once=False, stop=None):
    """Loop until interrupted or ``stop`` (a threading.Event) is set; ``once``: one pass."""
    _show_progress()
    interval = current_app.config["WORKER_INTERVAL"]
    log.info("worker started (interval %.1f s)", interval)
    while True:
        try:
            counts = run_once()
        except Exception:
            # A bad pass (database restarting, a bug) must not stop the worker.
            db.session.rollback()
            log.exception("worker pass failed; retrying")
            counts = {}
        if once:
            return counts
        if any(counts.values()):
            log.info("worker pass: %s", counts)
        else:
            db.session.remove()
            if _sleep(interval, stop):
                return counts
        if stop is not None and stop.is_set():
            return counts


def _show_progress():
    """Progress lines (INFO) go to stderr unless logging is configured already."""
    logger = logging.getLogger("cession")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


def _sleep(seconds, stop):
    """Wait ``seconds``; True when asked to stop."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)
