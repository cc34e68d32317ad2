"""One date style per language, from Babel, on pages and in mails (issue 11, item 9): Czech
"23. 11. 2026 9:32 SEČ", Polish "23.11.2026, 09:32 CET", German "23.11.2026, 09:32 MEZ",
English "23 Nov 2026, 09:32 CET"; no seconds, no two-digit years, the zone's name with a time."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from cession_app.extensions import db
from cession_app.models import OutboxMessage
from tests.lifecycle_helpers import push

PRAGUE = ZoneInfo("Europe/Prague")
# The zone's short name in each language, in winter and in summer.
ZONE = {
    "cs": ("SEČ", "SELČ"),
    "pl": ("CET", "CEST"),
    "de": ("MEZ", "MESZ"),
    "en": ("CET", "CEST"),
}
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def expected_date(lang, d):
    """The date as the language writes it, built by hand (not by Babel)."""
    return {
        "cs": f"{d.day}. {d.month}. {d.year}",
        "pl": f"{d.day}.{d.month:02d}.{d.year}",
        "de": f"{d.day:02d}.{d.month:02d}.{d.year}",
        "en": f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    }[lang]


def expected_time(lang, moment):
    """A UTC timestamp as a Prague reader of the language sees it, with the zone's name."""
    local = moment.astimezone(PRAGUE)
    zone = ZONE[lang][local.utcoffset().total_seconds() == 7200]
    day = expected_date(lang, local)
    if lang == "cs":
        return f"{day} {local.hour}:{local.minute:02d} {zone}"
    return f"{day}, {local.hour:02d}:{local.minute:02d} {zone}"


@pytest.mark.parametrize("lang", ["cs", "pl", "de", "en"])
def test_request_page_shows_dates_and_times_in_the_languages_style(client, make, log_in, lang):
    me = make.account("novak", language=lang, timezone="Europe/Prague")
    other = make.account("svoboda")
    web = make.service(me, domain="novak.cz", expires_on=date(2026, 11, 23))
    request = push(make, me, other, web)
    request.created_at = datetime(2026, 11, 23, 8, 32, 59, tzinfo=UTC)
    request.expires_at = datetime(2026, 7, 3, 20, 5, tzinfo=UTC)
    db.session.commit()
    log_in("novak")
    page = client.get(f"/transfers/requests/{request.id}").get_data(as_text=True)
    assert expected_time(lang, request.created_at) in page  # winter: 9:32, no seconds
    assert expected_time(lang, request.expires_at) in page  # summer: 22:05
    assert expected_date(lang, date(2026, 11, 23)) in page  # the service's expiry
    services = client.get("/services/").get_data(as_text=True)
    assert expected_date(lang, date(2026, 11, 23)) in services


def test_the_examples_of_the_issue():
    moment = datetime(2026, 11, 23, 8, 32, tzinfo=UTC)
    assert expected_time("cs", moment) == "23. 11. 2026 9:32 SEČ"
    assert expected_time("pl", moment) == "23.11.2026, 09:32 CET"
    assert expected_time("de", moment) == "23.11.2026, 09:32 MEZ"
    assert expected_time("en", moment) == "23 Nov 2026, 09:32 CET"


@pytest.mark.parametrize(
    "lang, sentence",
    [
        ("cs", "Odkaz platí do {}."),
        ("de", "Der Link ist bis {} gültig."),
        ("en", "The link is valid until {}."),
    ],
)
def test_mail_says_the_expiry_in_the_recipients_style_and_zone(app, make, lang, sentence):
    me = make.account("wrona")
    other = make.account("novak", language=lang, timezone="Europe/Prague")
    request = push(make, me, other, make.service(me, domain="wrona.pl"))
    query = db.select(OutboxMessage).where(
        OutboxMessage.account_id == other.id, OutboxMessage.template == "confirm_request"
    )
    mail = db.session.scalars(query).one()
    when = expected_time(lang, request.expires_at.replace(tzinfo=UTC))
    assert sentence.format(when) in mail.text_body
    assert when in mail.html_body


def test_polish_mail_says_the_expiry_in_the_polish_style(app, make):
    me = make.account("wrona")
    other = make.account("nowak", language="pl", timezone="Europe/Prague")
    request = push(make, me, other, make.service(me, domain="wrona.pl"))
    query = db.select(OutboxMessage).where(
        OutboxMessage.account_id == other.id, OutboxMessage.template == "confirm_request"
    )
    mail = db.session.scalars(query).one()
    assert expected_time("pl", request.expires_at.replace(tzinfo=UTC)) in mail.text_body
