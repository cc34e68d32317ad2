"""One mail path: render in the recipient's language into the outbox; the worker delivers."""

import smtplib
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import select

from .extensions import db, mail
from .models import OutboxMessage
from .models.base import utcnow


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


def queue(template, subject, recipient, account=None, language=None, timezone=None, **context):
    """Render ``emails/<template>.txt|.html`` and add it to the outbox (caller commits).

    ``subject`` is a lazy string, rendered in the recipient's language.
    """
    language = language or (account.language if account else None)
    language = language or current_app.config["DEFAULT_LOCALE"]
    timezone = timezone or (account.timezone if account else None)
    with recipient_context(language, timezone):
        context.update(recipient=account, link=link)
        message = OutboxMessage(
            recipient=recipient,
            account_id=account.id if account else None,
            template=template,
            language=language,
            subject=str(subject),
            text_body=render_template(f"emails/{template}.txt", **context),
            html_body=render_template(f"emails/{template}.html", **context),
        )
    db.session.add(message)
    return message


def queue_to_account(template, subject, account, **context):
    """Queue a mail to an account's contact address, in its language and time zone."""
    return queue(template, subject, account.email, account=account, **context)


def _backoff(attempts):
    limit = current_app.config["MAIL_RETRY_MAX_DELAY"]
    return timedelta(seconds=min(limit, 2 ** min(attempts, 16)))


def pending_batch(limit=50):
    """Claim due messages; PostgreSQL lets several workers share the queue."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalars(query).all()


def deliver_pending(limit=50):
    """Send due messages; on SMTP failure keep them and retry later. Returns the number sent."""
    batch = pending_batch(limit)
    if not batch:
        db.session.commit()
        return 0
    sent = 0
    if not current_app.config["MAIL_SERVER"]:
        for message in batch:  # development mailbox: kept in the outbox, shown in the app
            message.sent_at = utcnow()
            sent += 1
        db.session.commit()
        return sent
    try:
        with mail.connect() as conn:
            for message in batch:
                conn.send(_as_flask_message(message))
                message.sent_at = utcnow()
                message.attempts += 1
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        for message in batch:
            if message.sent_at is None:
                message.attempts += 1
                message.last_error = str(exc)[:500]
                message.next_attempt_at = utcnow() + _backoff(message.attempts)
        current_app.logger.warning("mail delivery failed, will retry: %s", exc)
    db.session.commit()
    return sent


def _as_flask_message(message):
    return Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.text_body,
        html=message.html_body,
    )
