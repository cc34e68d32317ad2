"""Mail delivery per message: one bad message never stops or repeats the others.

Permanent failures (a bad address, a 5xx answer) fail that message alone, with its reason;
temporary ones (4xx, the server down) retry it with back-off; claims of dead workers expire.
"""

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import update

from cession_app import create_app, mailer
from cession_app import smtp as transport
from cession_app.extensions import db
from cession_app.models import OutboxMessage
from cession_app.models.base import utcnow
from tests.conftest import fresh_schema
from tests.lifecycle_helpers import deliver

NON_ASCII = "jürgen@example.com"
CRLF = "evil@example.test\r\nBcc: victim@example.test"
DEAD = "dead@example.test"


def put(*recipients, **values):
    """Outbox rows as an earlier version (or any path) may have left them; their ids."""
    rows = [
        OutboxMessage(
            recipient=recipient,
            template="test",
            language="en",
            subject=f"Message {n}",
            text_body=f"Body {n}",
            html_body=f"<p>Body {n}</p>",
            **values,
        )
        for n, recipient in enumerate(recipients)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def row(message_id):
    """The message as stored now."""
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def make_due(*ids):
    """Skip the back-off: the messages are due now."""
    table = OutboxMessage.__table__
    db.session.execute(update(table).where(table.c.id.in_(ids)).values(next_attempt_at=utcnow()))
    db.session.commit()


def test_bad_addresses_among_50_good_ones_fail_alone_and_the_others_arrive_once(app, smtp):
    smtp.refused[DEAD] = "550 5.1.1 <dead@example.test>: mailbox unavailable"
    good = [f"customer{n}@example.test" for n in range(50)]
    ids = put(NON_ASCII, *good[:25], CRLF, *good[25:], DEAD)

    # The worker takes 50 a pass: the first pass meets two bad ones, the second the 550.
    assert [deliver()["mails"] for _ in range(3)] == [48, 2, 0]

    assert sorted(m["To"] for m in smtp.messages) == sorted(good)
    assert all(len(smtp.to(address)) == 1 for address in good)
    assert not any("victim" in str(m) for m in smtp.messages)
    non_ascii, crlf, dead = row(ids[0]), row(ids[26]), row(ids[-1])
    assert (non_ascii.status, non_ascii.failure_kind) == ("failed", "address")
    assert "non_ascii" in non_ascii.last_error
    assert (crlf.status, crlf.failure_kind) == ("failed", "address")
    assert "control" in crlf.last_error
    assert (dead.status, dead.failure_kind) == ("failed", "refused")
    assert "550" in dead.last_error and "mailbox unavailable" in dead.last_error
    assert all(m.failed_at is not None and m.attempts == 1 for m in (non_ascii, crlf, dead))
    sent = [row(i) for i in ids[1:26] + ids[27:-1]]
    assert all(m.status == "sent" and m.sent_at and m.attempts == 1 for m in sent)

    assert deliver()["mails"] == 0  # nothing goes twice, failed ones are not tried again
    assert len(smtp.messages) == 50


def test_one_connection_serves_a_whole_pass(app, smtp):
    put(*[f"c{n}@example.test" for n in range(10)], DEAD)
    smtp.refused[DEAD] = "550 no such user"
    assert mailer.deliver_pending() == 10
    assert len(set(smtp.peers)) == 1


def test_a_dropped_connection_is_opened_again_for_the_next_message(app, smtp):
    data = b"Subject: hello\r\n\r\nhello\r\n"
    with transport.transport(app.config) as session:
        session.send("noreply@cession.test", "first@example.test", data)
        session.host.close()  # the server dropped the idle connection meanwhile
        session.send("noreply@cession.test", "second@example.test", data)
    assert len(smtp.messages) == 2 and len(set(smtp.peers)) == 2


def test_a_recipient_answered_4xx_waits_with_back_off_and_the_others_go(app, smtp):
    smtp.refused["busy@example.test"] = "450 4.2.1 mailbox busy, try later"
    first, busy_id, last = put("first@example.test", "busy@example.test", "last@example.test")
    assert mailer.deliver_pending() == 2
    busy = row(busy_id)
    assert (busy.status, busy.attempts) == ("pending", 1)
    assert "450" in busy.last_error and busy.claimed_at is None
    assert busy.next_attempt_at > utcnow()
    assert mailer.deliver_pending() == 0  # backing off: not tried again at once

    smtp.refused.clear()
    make_due(busy_id)
    assert mailer.deliver_pending() == 1
    assert [len(smtp.to(a)) for a in ("first", "busy", "last")] == [1, 1, 1]
    assert (row(busy_id).status, row(busy_id).attempts) == ("sent", 2)


def test_back_off_doubles_up_to_the_longest_pause(app):
    app.config["MAIL_RETRY_MAX_DELAY"] = 600
    pauses = [mailer.backoff(n).total_seconds() for n in (1, 2, 3, 9, 10, 40)]
    assert pauses == [2, 4, 8, 512, 600, 600]


def test_a_recipient_that_answers_4xx_for_days_fails_in_the_end(app, smtp):
    smtp.refused["busy@example.test"] = "450 4.2.1 mailbox busy"
    hours = app.config["MAIL_GIVE_UP_HOURS"]
    [old] = put("busy@example.test", created_at=utcnow() - timedelta(hours=hours, minutes=1))
    assert mailer.deliver_pending() == 0
    message = row(old)
    assert (message.status, message.failure_kind) == ("failed", "expired")
    assert "450" in message.last_error


def test_a_message_refused_after_its_data_fails_alone(app, smtp, monkeypatch):
    async def reject_spam(server, session, envelope):
        if b"SPAM" in envelope.content:
            return "554 5.7.1 message looks like spam"
        return await original(server, session, envelope)

    original = smtp.handle_DATA
    monkeypatch.setattr(smtp, "handle_DATA", reject_spam)
    ok, spam = put("ok@example.test", "spam@example.test")
    db.session.execute(
        update(OutboxMessage.__table__)
        .where(OutboxMessage.id == spam)
        .values(text_body="SPAM", html_body="SPAM")
    )
    db.session.commit()
    assert mailer.deliver_pending() == 1
    assert (row(spam).status, row(spam).failure_kind) == ("failed", "rejected")
    assert "554" in row(spam).last_error and row(ok).status == "sent"


def test_a_message_with_a_line_break_in_its_subject_fails_alone(app, smtp):
    ok, bad = put("ok@example.test", "bad@example.test")
    table = OutboxMessage.__table__
    subject = "Hello\r\nBcc: victim@example.test"
    db.session.execute(update(table).where(table.c.id == bad).values(subject=subject))
    db.session.commit()
    assert mailer.deliver_pending() == 1
    assert (row(bad).status, row(bad).failure_kind) == ("failed", "unsendable")
    assert [m["To"] for m in smtp.messages] == ["ok@example.test"]


def test_smtp_down_then_up_every_message_arrives_once(app, switched_smtp):
    app.config["MAIL_PORT"] = switched_smtp.port
    ids = put(*[f"c{n}@example.test" for n in range(20)])
    assert mailer.deliver_pending() == 0  # down: one failed connection, all wait
    waiting = [row(i) for i in ids]
    assert all(m.status == "pending" and m.attempts == 1 for m in waiting)
    assert all("ConnectionRefusedError" in m.last_error for m in waiting)
    assert mailer.deliver_pending() == 0  # backing off

    switched_smtp.start()
    make_due(*ids)
    assert mailer.deliver_pending() == 20
    switched_smtp.stop()
    switched_smtp.start()
    assert mailer.deliver_pending() == 0
    caught = switched_smtp.mail.messages
    assert sorted(m["To"] for m in caught) == sorted(f"c{n}@example.test" for n in range(20))
    assert all(row(i).status == "sent" for i in ids)


def test_the_same_message_id_on_every_attempt(app, smtp):
    [one] = put("one@example.test")
    mailer.deliver_pending()
    created = int(row(one).created_at.timestamp())
    assert smtp.messages[0]["Message-ID"] == f"<outbox.{one}.{created}@cession.test>"


def test_a_claim_of_a_dead_worker_expires_and_a_live_claim_is_left_alone(app, smtp):
    orphan, taken = put("orphan@example.test", "taken@example.test")
    stale = utcnow() - timedelta(seconds=app.config["MAIL_CLAIM_TIMEOUT"] + 1)
    table = OutboxMessage.__table__
    for message_id, claimed_at in ((orphan, stale), (taken, utcnow())):
        db.session.execute(
            update(table)
            .where(table.c.id == message_id)
            .values(claimed_by="elsewhere:1:abc", claimed_at=claimed_at)
        )
    db.session.commit()
    assert mailer.deliver_pending() == 1
    assert [m["To"] for m in smtp.messages] == ["orphan@example.test"]
    assert row(taken).status == "pending" and row(taken).claimed_by == "elsewhere:1:abc"


def test_a_claim_is_taken_once(app, smtp):
    [one] = put("one@example.test")
    assert mailer.claim(one) is not None
    assert mailer.claim(one) is None  # even by the same worker: it holds it already
    assert mailer.due_ids() == []


def test_without_a_mail_server_bad_messages_fail_and_the_others_stay_for_the_mailbox(
    app_config, smtp
):
    app_config["MAIL_SERVER"] = ""
    dev = create_app(app_config)
    with dev.app_context():
        fresh_schema()
        good, bad = put("jan@example.test", NON_ASCII)
        assert mailer.deliver_pending() == 1
        assert (row(good).status, row(bad).status) == ("sent", "failed")
        assert row(bad).failure_kind == "address"
        db.session.remove()
        db.engine.dispose()
    assert smtp.messages == []


@pytest.mark.parametrize("language", ["en", "pl"])
def test_staff_see_failed_messages_with_their_reason(app, client, make, log_in, smtp, language):
    make.account("staffer", staff=True, language=language)
    make.account("novak")
    smtp.refused[DEAD] = "550 5.1.1 mailbox unavailable"
    put(NON_ASCII, DEAD, "fine@example.test", "later@example.test")
    smtp.refused["later@example.test"] = "451 4.3.0 try again later"
    mailer.deliver_pending()

    log_in("novak")
    assert client.get("/staff/outbox").status_code == 404
    client.post("/logout")
    log_in("staffer")
    staff_page = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/outbox"' in staff_page
    page = client.get("/staff/outbox").get_data(as_text=True)
    assert DEAD in page and "550 5.1.1 mailbox unavailable" in page
    assert "j\u00fcrgen@example.com" in page and "fine@example.test" not in page
    assert "451 4.3.0 try again later" in page  # waiting for another attempt
    labels = {
        "en": ("The recipient's mail server refused the address", "Failed messages"),
        "pl": ("Serwer pocztowy odbiorcy odrzucił adres", "Wiadomości niedostarczone"),
    }[language]
    assert all(label in unescape(page) for label in labels)


def test_a_failed_message_keeps_its_body_for_staff(app, smtp):
    [bad] = put(CRLF)
    mailer.deliver_pending()
    assert (row(bad).status, row(bad).text_body) == ("failed", "Body 0")


def test_a_failed_message_put_back_in_the_queue_goes_once_more(app, smtp):
    smtp.refused[DEAD] = "550 5.1.1 mailbox unavailable"
    [dead] = put(DEAD)
    mailer.deliver_pending()
    smtp.refused.clear()  # the recipient's mailbox exists again
    mailer.requeue(row(dead))
    db.session.commit()
    assert mailer.deliver_pending() == 1
    message = row(dead)
    assert (message.status, message.failure_kind, message.attempts) == ("sent", None, 2)
    assert len(smtp.to(DEAD)) == 1
