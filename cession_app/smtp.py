"""Talking to the SMTP server: one connection per pass, and what each error means.

Permanent: the message can never go as it is (an address or header that cannot be encoded,
a 5xx answer to the recipient or to the message). Temporary: it may go later (the server is
unreachable or busy, a 4xx answer). Once the server itself failed in a pass, the rest of the
pass is not tried again: every message waits for its next attempt.
"""

import smtplib
from contextlib import contextmanager

from flask_mail import BadHeaderError


class Permanent(Exception):
    """The message can never be delivered; ``kind`` (see FAILURE_KINDS) and ``text``."""

    def __init__(self, kind, text):
        super().__init__(text)
        self.kind = kind
        self.text = text[:2000]


class Temporary(Exception):
    """Try again later; ``recipient_level`` when only this recipient's server said so."""

    def __init__(self, text, recipient_level=False):
        super().__init__(text)
        self.text = text[:2000]
        self.recipient_level = recipient_level


def as_bytes(message):
    """The wire form of a Flask-Mail message, or Permanent when it cannot be encoded."""
    try:
        if message.has_bad_headers():
            raise BadHeaderError("line break in a header")
        return message.as_bytes()
    except (BadHeaderError, UnicodeError, ValueError, LookupError) as exc:
        name = type(exc).__name__
        raise Permanent("unsendable", f"the message cannot be encoded ({name}: {exc})") from None


def _answer(code, text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


class Mailbox:
    """No MAIL_SERVER: messages stay in the outbox for the development mailbox."""

    def send(self, sender, recipient, data):
        """Nothing to send: the development mailbox shows the stored message."""


class Session:
    """One SMTP connection, opened on the first message and reused for the others."""

    def __init__(self, config):
        self.config = config
        self.host = None
        self.down = None  # the server's failure in this pass: the rest waits

    def send(self, sender, recipient, data):
        """Send one message to one recipient; Permanent or Temporary when it did not go."""
        if self.down is not None:
            raise Temporary(self.down)
        try:
            self._send_reconnecting(sender, recipient, data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._answered(code, f"recipient refused: {_answer(code, text)}", "refused")
        except smtplib.SMTPDataError as exc:
            text = f"message refused: {_answer(exc.smtp_code, exc.smtp_error)}"
            self._answered(exc.smtp_code, text, "rejected")
        # Unreachable, timeout, the session refused (sender, authentication), or a sender
        # the server cannot take (UnicodeError): the server or its settings, not this message.
        except (OSError, smtplib.SMTPException, UnicodeError) as exc:
            self.close()
            self.down = f"mail server: {_describe(exc)}"
            raise Temporary(self.down) from None

    def _answered(self, code, text, kind):
        """A per-message answer: 5xx fails this message, 4xx retries it; the session goes on."""
        if 500 <= code < 600:
            raise Permanent(kind, text)
        raise Temporary(text, recipient_level=True)

    def _send_reconnecting(self, sender, recipient, data):
        """A reused connection the server has dropped meanwhile is opened again, once."""
        if self.host is not None:
            try:
                return self.host.sendmail(sender, [recipient], data)
            except smtplib.SMTPServerDisconnected:
                self.close()
        self.host = self._connect()
        return self.host.sendmail(sender, [recipient], data)

    def _connect(self):
        cfg = self.config
        kind = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
        host = kind(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
        try:
            if cfg["MAIL_USE_TLS"]:
                host.starttls()
            if cfg["MAIL_USERNAME"] and cfg["MAIL_PASSWORD"]:
                host.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        except BaseException:
            host.close()
            raise
        return host

    def close(self):
        """Say goodbye to the server (a dead connection is just dropped)."""
        host, self.host = self.host, None
        if host is None:
            return
        try:
            host.quit()
        except (OSError, smtplib.SMTPException):
            host.close()


def _describe(exc):
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {_answer(exc.smtp_code, exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


@contextmanager
def transport(config):
    """The transport for one pass: an SMTP session, or the development mailbox."""
    if not config["MAIL_SERVER"]:
        yield Mailbox()
        return
    session = Session(config)
    try:
        yield session
    finally:
        session.close()
