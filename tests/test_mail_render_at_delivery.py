"""Mails are rendered when the worker sends them, not when the change is made."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cession_app import mailer
from cession_app.extensions import db
from cession_app.i18n import lazy_gettext as _l
from cession_app.i18n import lazy_ngettext
from cession_app.models import Account, OutboxMessage, Service
from cession_app.models.outbox import FAILED, SENT
from cession_app.transfers import operations
from tests.lifecycle_helpers import deliver, html_of, outbox, push, text_of
from tests.test_mail_brand import BRAND, BUTTON, SUMMARY


@pytest.fixture
def app_config(app_config):
    """An installation with a brand of its own."""
    app_config.update(BRAND)
    return app_config


def stored(message_id):
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_executing_renders_nothing_the_outbox_keeps_what_to_render(app, make):
    novak = make.account("novak", language="cs", timezone="Europe/Prague")
    svoboda = make.account("svoboda", language="de", timezone="Europe/Berlin")
    req = push(make, novak, svoboda, make.service(novak, domain="novak.cz"))
    for party in list(req.parties):
        operations.confirm(req, party)
    assert operations.execute_due(50) == 1
    ended = outbox("request_ended")
    assert len(ended) == 2
    for message in ended:
        assert message.stored_text is None and message.stored_html is None
        assert message.stored_subject is None
        kept = json.loads(message.context)
        assert kept["values"]["$map"]["request"] == {"$m": ["TransferRequest", req.id]}
    by_language = {m.language: m.timezone for m in ended}
    assert by_language == {"cs": "Europe/Prague", "de": "Europe/Berlin"}


@pytest.mark.parametrize("language", ["pl", "cs", "de"])
def test_the_worker_renders_in_the_recipients_language_with_brand_summary_and_button(
    app, make, smtp, language
):
    me = make.account("wrona", name="Zofia Wrona")
    other = make.account("novak", name="Jan Novák", language=language)
    services = [
        make.service(me, domain="wrona-studio.pl", kind=kind)
        for kind in ("webhosting", "email", "domain")
    ]
    push(make, me, other, *services)
    row = next(m for m in outbox("confirm_request") if m.account_id == other.id)
    assert row.stored_text is None
    deliver()
    (sent,) = smtp.to(other.email)
    text, html = text_of(sent), html_of(sent)
    assert SUMMARY[language] in text and SUMMARY[language] in html
    assert BUTTON[language] in html and "Acme Hosting" in html
    assert f'<html lang="{language}">' in html
    kept = stored(row.id)
    assert kept.status == SENT
    assert SUMMARY[language] in kept.stored_text and BUTTON[language] in kept.stored_html
    assert kept.stored_subject == sent["Subject"]


def test_a_mail_rendered_by_an_older_version_is_sent_as_it_is(app, make, smtp):
    old = OutboxMessage(
        recipient="novak@example.test",
        template="request_ended",
        language="en",
        subject="Rendered long ago",
        text_body="Old text body",
        html_body="<p>Old html body</p>",
    )
    db.session.add(old)
    db.session.commit()
    assert deliver()["mails"] == 1
    (sent,) = smtp.to("novak@example.test")
    assert sent["Subject"] == "Rendered long ago"
    assert text_of(sent).strip() == "Old text body"
    assert stored(old.id).status == SENT


def test_a_mail_whose_record_is_gone_fails_and_the_others_go(app, make, smtp):
    novak = make.account("novak")
    message = mailer.queue_to_account(
        "webhook_disabled", _l("A webhook endpoint has been disabled"), novak, hours=72
    )
    message.context = message.context.replace('"hours"', '"endpoint":{"$m":["Service",999]},"h"')
    mailer.queue_to_account(
        "password_changed",
        _l("Your password has been changed"),
        novak,
        forgot_url="http://cession.test/password/forgot",
        when=datetime.now(UTC),
    )
    db.session.commit()
    assert deliver()["mails"] == 1
    failed = stored(message.id)
    assert failed.status == FAILED and failed.failure_kind == "unsendable"
    assert "no longer exists" in failed.last_error
    assert len(smtp.to(novak.email)) == 1


def test_values_are_kept_as_json_and_read_back(app, make):
    novak = make.account("novak")
    web = make.service(novak)
    values = {
        "account": novak,
        "pairs": [(web, Decimal("12.50"))],
        "when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "day": date(2026, 1, 2),
        "text": _l("Hello %(name)s,", name="Jan"),
        "count": lazy_ngettext("%(num)d service", "%(num)d services", 3),
        "nothing": None,
        "flag": True,
    }
    back = mailer.unpack(json.loads(json.dumps(mailer.pack(values))))
    assert back["account"] is db.session.get(Account, novak.id)
    assert back["pairs"] == [[db.session.get(Service, web.id), Decimal("12.50")]]
    assert back["when"] == values["when"] and back["day"] == values["day"]
    assert str(back["text"]) == "Hello Jan," and str(back["count"]) == "3 services"
    assert back["nothing"] is None and back["flag"] is True


def test_a_value_that_cannot_be_kept_is_rendered_at_once(app, make):
    novak = make.account("novak")
    message = mailer.queue_to_account(
        "password_changed",
        _l("Your password has been changed"),
        novak,
        forgot_url="http://cession.test/password/forgot",
        when=datetime.now(UTC),
        odd=object(),
    )
    assert message.context is None and message.stored_text


def test_delivery_stops_for_a_transfer_that_became_due(app, make, smtp):
    novak = make.account("novak")
    for _ in range(5):
        mailer.queue_to_account(
            "password_changed",
            _l("Your password has been changed"),
            novak,
            forgot_url="http://cession.test/password/forgot",
            when=datetime.now(UTC),
        )
    db.session.commit()
    asked = []

    def due():
        asked.append(1)
        return len(asked) >= 2

    assert mailer.deliver_pending(interrupt=due) == 2  # the rest waits for the next pass
    assert not operations.executions_due()
    assert mailer.deliver_pending(interrupt=operations.executions_due) == 3


def test_the_worker_sees_a_confirmed_request_as_due(app, make):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    req = push(make, novak, svoboda, make.service(novak, domain="novak.cz"))
    assert not operations.executions_due()
    for party in list(req.parties):
        operations.confirm(req, party)
    assert operations.executions_due()


def test_a_list_of_messages_renders_only_their_subjects(app, make):
    novak = make.account("novak", language="cs")
    message = mailer.queue_to_account(
        "webhook_disabled", _l("A webhook endpoint has been disabled"), novak, hours=72
    )
    db.session.commit()
    listed = stored(message.id)
    with app.test_request_context("/"):
        from flask_babel import force_locale
        from flask_babel import gettext as babel_gettext

        with force_locale("cs"):
            czech = babel_gettext("A webhook endpoint has been disabled")
    assert listed.subject == czech
    assert "_rendered" not in listed.__dict__ and listed.stored_text is None
