"""One mail path: what to render goes into the outbox; the worker renders it and delivers.

``queue`` writes the message in the caller's transaction with what to render: the template,
its values as JSON (records by their ids, so nothing is rendered while the change is made),
the subject, and the recipient's language and time zone. The worker renders it in that
language when it sends it (``render_parts``), and keeps the rendered subject and bodies.
Messages written by an older version, already rendered, are sent as they are.

Delivery is per message: each is claimed by one worker (a conditional UPDATE checked by its
row count, so it works on SQLite and PostgreSQL alike), sent, and marked sent or failed in
its own transaction. A claim older than MAIL_CLAIM_TIMEOUT is taken over: its worker died.
Permanent failures (a bad address, a message that cannot be encoded, a 5xx answer for the
recipient or the message) fail that message only; temporary ones (server unreachable, 4xx)
retry it with exponential back-off. See ``smtp.py`` for how an error is classified.
"""

import json
import logging
import os
import secrets
import socket
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.utils import parseaddr
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel.speaklater import LazyString
from sqlalchemy import func, inspect, or_, select, update

from . import addresses, bulk, i18n
from .extensions import db
from .i18n import LazyText
from .i18n import lazy_gettext as _l
from .models import Account, OutboxMessage
from .models.base import utcnow
from .models.outbox import FAILED, PENDING, SENT

log = logging.getLogger("cession.mail")
_outbox = OutboxMessage.__table__


@contextmanager
def recipient_context(language, timezone=None):
    """Render as the recipient reads: its locale and time zone."""
    old = g.get("mail_locale"), g.get("mail_timezone")
    g.mail_locale = language
    g.mail_timezone = timezone or current_app.config["DEFAULT_TIMEZONE"]
    try:
        with force_locale(language):
            yield
    finally:
        g.mail_locale, g.mail_timezone = old


def link(endpoint, **values):
    """An absolute link to ``endpoint`` from the configured BASE_URL, never the request's Host.

    Works without a request (the worker), since the path is built from the URL map alone.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def support_address(*, kept=False):
    """Where customers report abuse: SUPPORT_EMAIL, else the sender's address.
    ``kept``: the setting as this process read it lately (``site_settings.get``)."""
    from . import site_settings  # it records audit events, which load the models

    configured = site_settings.get("SUPPORT_EMAIL", kept=kept)
    return configured or address_of(current_app.config["MAIL_DEFAULT_SENDER"])


@lru_cache(maxsize=16)  # every page's footer shows it: parsed once per value, not per page
def address_of(sender):
    """The address of a sender like "Name <a@b.cz>"."""
    return parseaddr(sender)[1]


def queue(template, subject, recipient, account=None, language=None, timezone=None, **context):
    """Add a mail to the outbox, to be rendered from ``emails/<template>.txt|.html`` at
    delivery (caller commits).

    ``subject`` is a lazy string, rendered in the recipient's language.
    """
    message = render(template, subject, recipient, account, language, timezone, **context)
    db.session.add(message)
    return message


def queue_batch(mails):
    """``queue`` for several mails with one INSERT (the executor's batch; caller commits).

    ``mails``: the arguments of ``queue`` for each mail, as dicts. Nothing is returned: the
    rows are written at once, not kept in the session.
    """
    rows = [_row(**mail) for mail in mails]
    bulk.insert_rows(_outbox, rows)


def render(template, subject, recipient, account=None, language=None, timezone=None, **context):
    """The message ``queue`` would add, not added (also to spend the same time on a request
    that must not reveal that nobody gets a mail)."""
    return OutboxMessage(
        **_row(template, subject, recipient, account, language, timezone, **context)
    )


def _row(template, subject, recipient, account=None, language=None, timezone=None, **context):
    """The outbox row of a mail, by column: what ``render`` and ``queue_batch`` write.

    Its values are kept to be rendered at delivery; a value that cannot be kept as JSON
    (a record not stored yet, an unknown type) makes it rendered now instead.
    """
    language = language or (account.language if account else None)
    language = language or current_app.config["DEFAULT_LOCALE"]
    row = {
        "recipient": recipient,
        "account_id": account.id if account else None,
        "template": template,
        "language": language,
        "timezone": timezone or (account.timezone if account else None),
        "context": None,
        "subject": None,
        "text_body": None,
        "html_body": None,
    }
    try:
        row["context"] = json.dumps(
            {"subject": pack(subject), "values": pack(context)}, separators=(",", ":")
        )
    except Unpackable:
        parts = _render(template, subject, account, language, row["timezone"], context)
        row["subject"], row["text_body"], row["html_body"] = parts
    return row


def render_parts(message):
    """(subject, text, html) of a message kept to be rendered at delivery."""
    kept = json.loads(message.context)
    account = db.session.get(Account, message.account_id) if message.account_id else None
    return _render(
        message.template,
        unpack(kept["subject"]),
        account,
        message.language,
        message.timezone,
        unpack(kept["values"]),
    )


def render_subject(message):
    """The subject of a message kept to be rendered, alone (a list of messages shows it)."""
    subject = unpack(json.loads(message.context)["subject"])
    with recipient_context(message.language, message.timezone):
        return str(subject)


def _render(template, subject, account, language, timezone, context):
    with recipient_context(language, timezone):
        context.update(recipient=account, link=link, support_email=support_address())
        return (
            str(subject),
            render_template(f"emails/{template}.txt", **context),
            render_template(f"emails/{template}.html", **context),
        )


def fill(message):
    """Render a message kept to be rendered and store the result with it (caller commits)."""
    if message.stored_text is None and message.context is not None:
        message.subject, message.text_body, message.html_body = render_parts(message)


# ---------------------------------------------------------------- values kept as JSON
class Unpackable(TypeError):
    """A value ``pack`` cannot keep as JSON."""


_LAZY = {"gettext": i18n.gettext, "ngettext": i18n.ngettext, "pgettext": i18n.pgettext}


def _model_classes():
    return {m.class_.__name__: m.class_ for m in db.Model.registry.mappers}


def pack(value):
    """A template value as JSON: plain values as they are, records as [class, id], lazy
    strings as their message and values, dates, amounts and containers tagged."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, LazyString):
        name = getattr(value._func, "__name__", "")
        if name not in _LAZY:
            raise Unpackable(f"lazy string of {name!r}")
        return {"$t": [name, pack(list(value._args)), pack(value._kwargs)]}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, db.Model):
        identity = inspect(value).identity
        if identity is None or len(identity) != 1:
            raise Unpackable(f"{type(value).__name__} not stored yet")
        return {"$m": [type(value).__name__, identity[0]]}
    if isinstance(value, list | tuple):
        return [pack(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$map": {k: pack(v) for k, v in value.items()}}
    raise Unpackable(type(value).__name__)


def unpack(value):
    """The template value ``pack`` kept (records read again by their ids)."""
    if isinstance(value, list):
        return [unpack(v) for v in value]
    if not isinstance(value, dict):
        return value
    ((tag, data),) = value.items()
    if tag == "$map":
        return {k: unpack(v) for k, v in data.items()}
    if tag == "$t":
        name, args, kwargs = data
        return LazyText(_LAZY[name], *unpack(args), **unpack(kwargs))
    if tag == "$dt":
        return datetime.fromisoformat(data)
    if tag == "$d":
        return date.fromisoformat(data)
    if tag == "$dec":
        return Decimal(data)
    name, pk = data
    found = db.session.get(_model_classes()[name], pk)
    if found is None:
        raise LookupError(f"{name} {pk} no longer exists")
    return found


def queue_to_account(template, subject, account, **context):
    """Queue a mail to an account's contact address, in its language and time zone."""
    return queue(template, subject, account.email, account=account, **context)


# ---------------------------------------------------------------- what staff see
def status_counts():
    """How many messages are pending, sent and failed: {status: count}."""
    query = select(_outbox.c.status, func.count()).group_by(_outbox.c.status)
    counts = dict.fromkeys((PENDING, SENT, FAILED), 0)
    counts.update(db.session.execute(query).all())
    return counts


def messages_query(status=None):
    """Messages (of one status), the most recent first: failed by when they failed."""
    query = select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if status == FAILED:
        return query.order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
    return query.order_by(OutboxMessage.id.desc())


def failed_page(page, per_page):
    """One page of the failed messages, the latest failure first."""
    return db.paginate(messages_query(FAILED), page=page, per_page=per_page, error_out=False)


def retrying():
    """Pending messages that met a temporary failure: (how many, the latest one or None)."""
    query = select(OutboxMessage).where(
        OutboxMessage.status == PENDING, OutboxMessage.last_error.is_not(None)
    )
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    latest = db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(1)).first()
    return count, latest


FAILURE_LABELS = {
    "address": _l("The address cannot receive mail"),
    "refused": _l("The recipient's mail server refused the address"),
    "rejected": _l("The mail server refused the message"),
    "unsendable": _l("The message could not be encoded"),
    "expired": _l("The recipient's mail server kept asking to try later; we gave up"),
}


def failure_label(kind):
    """Why a message failed, in words (unknown kinds are shown as stored)."""
    return FAILURE_LABELS.get(kind, kind)


def requeue(message):
    """Put a failed (or waiting) message back in the queue, due now (caller commits).

    For staff who fixed the cause (e.g. the address was corrected at the recipient's side);
    the failure is forgotten, the attempts so far are kept.
    """
    message.status = PENDING
    message.next_attempt_at = utcnow()
    message.failed_at = message.failure_kind = None
    message.claimed_by = message.claimed_at = None
    return message


def resend_to(message, address):
    """A copy of ``message`` for another address, due now (caller commits).

    For staff when a customer gave a working address (by phone, say); the account's own
    address stays as it is. Raises ``addresses.AddressInvalid`` for an unusable address.
    """
    copy = OutboxMessage(
        recipient=addresses.normalize(address),
        account_id=message.account_id,
        template=message.template,
        language=message.language,
        subject=message.subject,
        text_body=message.text_body,
        html_body=message.html_body,
    )
    db.session.add(copy)
    return copy


# ---------------------------------------------------------------- delivery (the worker)
_worker = {}


def worker_id():
    """This process's name in claims: host, process id and a random tag (pids are reused)."""
    pid = os.getpid()
    if _worker.get("pid") != pid:
        tag = secrets.token_hex(3)
        _worker.update(pid=pid, id=f"{socket.gethostname()[:60]}:{pid}:{tag}")
    return _worker["id"]


def _claim_timeout():
    return timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])


def _claimable(now):
    """Pending, due, and not claimed (or claimed so long ago that its worker is gone)."""
    return (
        _outbox.c.status == PENDING,
        _outbox.c.next_attempt_at <= now,
        or_(_outbox.c.claimed_at.is_(None), _outbox.c.claimed_at < now - _claim_timeout()),
    )


def due_ids(limit=50):
    """Ids of messages a worker may claim now, oldest first."""
    query = select(_outbox.c.id).where(*_claimable(utcnow())).order_by(_outbox.c.id).limit(limit)
    ids = db.session.scalars(query).all()
    db.session.commit()
    return ids


def claim(message_id):
    """Take one message for this worker (own transaction); the message, or None if taken."""
    now = utcnow()
    result = db.session.execute(
        update(_outbox)
        .where(_outbox.c.id == message_id, *_claimable(now))
        .values(claimed_by=worker_id(), claimed_at=now)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(OutboxMessage, message_id)


def _finish(message_id, *conditions, **values):
    """Write the outcome of an attempt (own transaction)."""
    db.session.execute(
        update(_outbox)
        .where(_outbox.c.id == message_id, _outbox.c.status == PENDING, *conditions)
        .values(attempts=_outbox.c.attempts + 1, **values)
    )
    db.session.commit()


def mark_sent(message):
    """The server took the message."""
    _finish(message.id, status=SENT, sent_at=utcnow())


def mark_failed(message, kind, error):
    """The message can never be delivered: failed, with the reason (kind and text)."""
    log.warning("mail %s to %r failed (%s): %s", message.id, message.recipient, kind, error)
    _finish(message.id, status=FAILED, failed_at=utcnow(), failure_kind=kind, last_error=error)


def backoff(attempts):
    """The pause before the next attempt: doubling per attempt, at most MAIL_RETRY_MAX_DELAY."""
    limit = current_app.config["MAIL_RETRY_MAX_DELAY"]
    return timedelta(seconds=min(limit, 2 ** min(attempts, 16)))


def mark_retry(message, error):
    """A temporary failure: try again after the back-off (only while this worker holds it)."""
    _finish(
        message.id,
        _outbox.c.claimed_by == worker_id(),
        claimed_by=None,
        claimed_at=None,
        last_error=error,
        next_attempt_at=utcnow() + backoff(message.attempts + 1),
    )


def _given_up(message):
    hours = current_app.config["MAIL_GIVE_UP_HOURS"]
    return utcnow() - message.created_at > timedelta(hours=hours)


def deliver_pending(limit=50, interrupt=None):
    """Deliver up to ``limit`` due messages, one at a time; returns the number sent.

    Without MAIL_SERVER the messages are only checked and kept for the development mailbox.
    ``interrupt``: asked before each message after the first; when it answers true the
    rest waits for the next pass (the worker stops for a transfer that became due).
    """
    from . import smtp  # smtplib and Flask-Mail: the worker's, not a web worker's

    ids = due_ids(limit)
    if not ids:
        return 0
    sent = 0
    with smtp.transport(current_app.config) as transport:
        for n, message_id in enumerate(ids):
            if n and interrupt is not None and interrupt():
                break
            message = claim(message_id)
            if message is not None:
                sent += deliver(message, transport)
    return sent


def deliver(message, transport):
    """Send one claimed message and record the outcome; 1 when sent, else 0."""
    from . import smtp

    try:
        fill(message)
    except Exception as exc:  # a template error or a record gone: it will never render
        log.exception("mail %s could not be rendered", message.id)
        db.session.rollback()
        mark_failed(message, "unsendable", f"not rendered: {type(exc).__name__}: {exc}"[:2000])
        return 0
    try:
        transport.send(_envelope_sender(), *_prepare(message))
    except smtp.Permanent as exc:
        mark_failed(message, exc.kind, exc.text)
    except smtp.Temporary as exc:
        if exc.recipient_level and _given_up(message):
            mark_failed(message, "expired", exc.text)
        else:
            log.info("mail %s will be tried again: %s", message.id, exc.text)
            mark_retry(message, exc.text)
    except Exception as exc:  # a bug must not hold the queue: this message waits, others go
        log.exception("mail %s: unexpected error, will be tried again", message.id)
        mark_retry(message, f"unexpected error: {type(exc).__name__}: {exc}"[:2000])
    else:
        mark_sent(message)
        return 1
    return 0


def _envelope_sender():
    return address_of(current_app.config["MAIL_DEFAULT_SENDER"])


def _prepare(message):
    """(recipient, bytes) of a stored message, or smtp.Permanent saying why it cannot go."""
    from . import smtp

    try:
        recipient = addresses.normalize(message.recipient)
    except addresses.AddressInvalid as exc:
        text = f"{exc.code}: {exc.detail}" if exc.detail else exc.code
        raise smtp.Permanent("address", f"the address cannot be used ({text})") from None
    return recipient, smtp.as_bytes(_as_flask_message(message, recipient))


def _as_flask_message(message, recipient):
    from flask_mail import Mail, Message

    if "mail" not in current_app.extensions:
        Mail(current_app)  # its settings (MAIL_*), read once; web workers never get here
    mail = Message(
        subject=message.subject,
        recipients=[recipient],
        body=message.text_body,
        html=message.html_body,
    )
    # The same Message-ID on every attempt, so a mailbox can tell a repeat from a new mail.
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    mail.msgId = f"<outbox.{message.id}.{int(message.created_at.timestamp())}@{host}>"
    return mail
