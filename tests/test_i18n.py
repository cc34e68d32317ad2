"""Locale choice, the language switcher, mails in each recipient's language, plurals, formats."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale, get_locale, ngettext
from flask_login import login_user, logout_user

from cession_app import create_app, i18n, worker
from cession_app.extensions import db
from cession_app.mailer import recipient_context
from cession_app.models import Account, AuditEvent
from cession_app.transfers import operations
from tests.conftest import fresh_schema

NBSP = "\xa0"


def html_lang(response):
    """The page's <html lang>."""
    return re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True)).group(1)


def h1(response):
    """The page's main heading."""
    return re.search(r"<h1>(.*?)</h1>", response.get_data(as_text=True), re.S).group(1).strip()


# ---------------------------------------------------------------- the order of choice
def test_account_language_wins_over_choice_and_accept_language(client, make, log_in):
    make.account("nowak", language="pl")
    client.post("/language", data={"language": "de"})  # chosen before logging in
    log_in("nowak")
    response = client.get("/services/", headers={"Accept-Language": "cs"})
    assert h1(response) == "Moje usługi"
    assert html_lang(response) == "pl"
    assert ">Moje dane</a>" in response.get_data(as_text=True)


def test_visitors_choice_wins_over_accept_language(client):
    response = client.post("/language", data={"language": "cs", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "de"})
    assert h1(page) == "Přihlášení do Zákaznického centra"
    assert html_lang(page) == "cs"


@pytest.mark.parametrize(
    "header, lang, heading",
    [
        ("de-AT,de;q=0.9,en;q=0.5", "de", "Anmeldung im Kundencenter"),
        ("fr-FR, cs;q=0.8, pl;q=0.5", "cs", "Přihlášení do Zákaznického centra"),
        ("pl;q=0.3, de;q=0.7", "de", "Anmeldung im Kundencenter"),
        ("pl-PL", "pl", "Zaloguj się do Panelu Klienta"),
        ("en-GB,pl;q=0.5", "en", "Log in to the customer panel"),  # en-GB means English
        ("fr, *;q=0.1", "en", "Log in to the customer panel"),  # DEFAULT_LOCALE
    ],
)
def test_accept_language_when_nothing_was_chosen(client, header, lang, heading):
    response = client.get("/login", headers={"Accept-Language": header})
    assert h1(response) == heading
    assert html_lang(response) == lang


def test_default_locale_when_nothing_else_decides(app_config):
    app = create_app({**app_config, "DEFAULT_LOCALE": "cs"})
    client = app.test_client()
    with app.app_context():
        fresh_schema()
        for headers in ({}, {"Accept-Language": "fr, es;q=0.5"}):
            response = client.get("/login", headers=headers)
            assert h1(response) == "Přihlášení do Zákaznického centra"
            assert html_lang(response) == "cs"
        db.session.remove()
        db.engine.dispose()  # no pooled connection left for the garbage collector to warn of


def test_error_pages_follow_the_locale(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "pl"})
    assert response.status_code == 404
    assert html_lang(response) == "pl"
    assert "Ta strona nie istnieje lub nie masz do niej dostępu." in response.get_data(as_text=True)


# ---------------------------------------------------------------- the switcher
def test_switcher_saves_the_accounts_language_and_remembers_it_after_log_out(client, make, log_in):
    me = make.account("novak", language="en")
    log_in("novak")
    response = client.post("/language", data={"language": "cs", "next": "/my-data"})
    assert response.headers["Location"] == "/my-data"
    assert db.session.get(Account, me.id).language == "cs"
    event = db.session.scalars(db.select(AuditEvent).filter_by(action="preferences_changed")).one()
    assert event.details == {"language": "cs"}
    assert h1(client.get("/my-data")) == "Moje údaje"
    page = client.post("/logout", follow_redirects=True)
    assert "Byli jste odhlášeni." in page.get_data(as_text=True)
    assert html_lang(client.get("/login", headers={"Accept-Language": "de"})) == "cs"


def test_switcher_works_without_javascript_and_needs_its_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get("/login").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/language".*?</form>', html, re.S).group(0)
    assert '<noscript><button type="submit">Change language</button></noscript>' in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    next_url = re.search(r'name="next" value="([^"]+)"', form).group(1)
    assert next_url == "/login"
    refused = client.post("/language", data={"language": "de", "next": next_url})
    assert refused.status_code == 400
    assert html_lang(client.get("/login")) == "en"
    response = client.post(
        "/language", data={"language": "de", "next": next_url, "csrf_token": token}
    )
    assert response.status_code == 302
    assert h1(client.get(response.headers["Location"])) == "Anmeldung im Kundencenter"


def test_switcher_refuses_unknown_languages_and_foreign_redirects(client):
    client.post("/language", data={"language": "cs"})
    response = client.post("/language", data={"language": "fr", "next": "//evil.example/x"})
    assert response.headers["Location"] == "/services/"
    page = client.get("/login")
    assert "Vyberte prosím jeden z nabízených jazyků." in page.get_data(as_text=True)
    assert html_lang(page) == "cs"


def test_my_data_answers_in_the_newly_chosen_language(client, make, log_in):
    me = make.account("novak", language="en")
    log_in("novak")
    page = client.post(
        "/my-data",
        data={"language": "de", "timezone": "Europe/Berlin"},
        follow_redirects=True,
    )
    assert "Ihre Einstellungen wurden gespeichert." in page.get_data(as_text=True)
    assert h1(page) == "Meine Daten"
    saved = db.session.get(Account, me.id)
    assert (saved.language, saved.timezone) == ("de", "Europe/Berlin")


def test_language_names_are_shown_in_their_own_language(client):
    html = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    options = re.findall(r'<option value="(\w+)" lang="\1"\s*(?:selected)?>([^<]+)</option>', html)
    assert options == [("en", "English"), ("pl", "Polski"), ("cs", "Čeština"), ("de", "Deutsch")]
    assert re.search(r'<option value="de" lang="de" selected>', html)


@pytest.mark.parametrize(
    "lang, required",
    [("cs", "Toto pole je povinné."), ("pl", "To pole jest wymagane."), ("de", "Dieses Feld")],
)
def test_form_errors_are_in_the_visitors_language(client, lang, required):
    """WTForms' own messages too (its Czech catalog is named cs_CZ)."""
    client.post("/language", data={"language": lang})
    page = client.post("/login", data={"login": "", "password": ""})
    assert page.get_data(as_text=True).count(required) == 4  # at both fields, and summed up


# ---------------------------------------------------------------- mails
def test_each_party_reads_the_transfer_mails_in_its_own_language(app, make, smtp):
    """A Polish customer starts it: Czech and German parties get Czech and German mails."""
    nowak = make.account("nowak", language="pl", name="Jan Nowak", timezone="Europe/Warsaw")
    eva = make.account("svobodova", language="cs", name="Eva Svobodová")
    hans = make.account("mueller", language="de", name="Hans Müller", timezone="America/New_York")
    web = make.service(nowak, domain="nowak.pl", kind="webhosting", payer=hans)
    mail = make.service(nowak, domain="nowak.eu", kind="email")
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        assert str(get_locale()) == "pl"
        to_eva = operations.create_request(
            nowak,
            direction="push",
            domain="nowak.pl",
            other=eva,
            service_ids=[web.id],
            notify_email="biuro@nowak.pl",
        )
        to_hans = operations.create_request(
            nowak, direction="push", domain="nowak.eu", other=hans, service_ids=[mail.id]
        )
        assert str(get_locale()) == "pl"  # the page's locale is back after the mails
    worker.run_once()

    def only(address, subject_start):
        found = [m for m in smtp.to(address) if m["Subject"].startswith(subject_start)]
        assert len(found) == 1, [m["Subject"] for m in smtp.to(address)]
        return found[0].get_body(("plain",)).get_content(), found[0].get_body(("html",))

    text, html = only(eva.email, "Potvrďte prosím převod služeb domény nowak.pl")
    assert "Dobrý den, Eva Svobodová," in text
    assert "Jan Nowak žádá o převod těchto služeb domény nowak.pl:" in text
    assert "- Webhosting (" in text and "expiruje " in text
    assert '<html lang="cs">' in html.get_content()
    expires = to_eva.expires_at
    with recipient_context("cs", eva.timezone):
        assert f"Odkaz platí do {i18n.fmt_datetime(expires)}." in text

    text, html = only(hans.email, "Dienste der Domain nowak.pl werden übertragen")
    assert "Guten Tag Hans Müller," in text
    assert "hat die Übertragung dieser Dienste der Domain nowak.pl beantragt" in text
    assert '<html lang="de">' in html.get_content()
    text, _ = only(hans.email, "Bitte bestätigen Sie die Übertragung der Dienste der Domain")
    with recipient_context("de", "America/New_York"):
        assert f"Der Link ist bis {i18n.fmt_datetime(to_hans.expires_at)} gültig." in text

    text, _ = only(nowak.email, "Potwierdź cesję usług domeny nowak.pl")
    assert "Dzień dobry, Jan Nowak," in text
    text, _ = only("biuro@nowak.pl", "Trwa cesja usług domeny nowak.pl")
    assert text.splitlines()[0].startswith("Cesja 1 usługi domeny nowak.pl")  # the summary
    assert text.splitlines()[2] == "Dzień dobry,"  # the extra address: the initiator's language


# ---------------------------------------------------------------- plurals
@pytest.mark.parametrize(
    "lang, expected",
    [
        ("pl", ["1 usługa", "2 usługi", "5 usług"]),
        ("cs", ["1 služba", "2 služby", "5 služeb"]),
        ("de", ["1 Dienst", "2 Dienste", "5 Dienste"]),
        ("en", ["1 service", "2 services", "5 services"]),
    ],
)
def test_my_services_counts_each_business_case_in_the_right_plural(
    client, make, log_in, lang, expected
):
    me = make.account("novak", language=lang)
    for domain, count in (("a.cz", 1), ("b.cz", 2), ("c.cz", 5)):
        for _ in range(count):
            make.service(me, domain=domain)
    log_in("novak")
    html = client.get("/services/").get_data(as_text=True)
    assert re.findall(r'<small class="case-count">([^<]*)</small>', html) == expected


@pytest.mark.parametrize(
    "lang, forms",
    [
        ("pl", {0: "usług", 1: "usługa", 4: "usługi", 12: "usług", 22: "usługi", 25: "usług"}),
        ("cs", {0: "služeb", 1: "služba", 3: "služby", 4: "služby", 22: "služeb", 101: "služeb"}),
        ("de", {0: "Dienste", 1: "Dienst", 2: "Dienste", 21: "Dienste"}),
    ],
)
def test_plural_rules_of_each_language(app, lang, forms):
    with force_locale(lang):
        for n, word in forms.items():
            assert ngettext("%(num)d service", "%(num)d services", n) == f"{n} {word}"


# ---------------------------------------------------------------- dates, times, money
UTC_NOON = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "lang, tz, stamp, day, money",
    [
        ("pl", "Europe/Warsaw", "15.01.2025, 13:00 CET", "09.03.2025", f"1{NBSP}234,50{NBSP}zł"),
        ("cs", "Europe/Prague", "15. 1. 2025 13:00 SEČ", "9. 3. 2025", f"1{NBSP}234,50{NBSP}Kč"),
        ("de", "America/New_York", "15.01.2025, 07:00 -0500", "09.03.2025", f"1.234,50{NBSP}€"),
        ("de", "Europe/Berlin", "15.01.2025, 13:00 MEZ", "09.03.2025", f"1.234,50{NBSP}€"),
        ("en", "Europe/Prague", "15 Jan 2025, 13:00 CET", "9 Mar 2025", "€1,234.50"),
    ],
)
def test_dates_times_and_money_in_the_readers_locale_and_zone(app, lang, tz, stamp, day, money):
    currency = {"pl": "PLN", "cs": "CZK", "de": "EUR", "en": "EUR"}[lang]
    with recipient_context(lang, tz):
        assert i18n.fmt_datetime(UTC_NOON) == stamp
        assert i18n.fmt_date(date(2025, 3, 9)) == day
        assert i18n.fmt_money(Decimal("1234.50"), currency) == money
        rendered = app.jinja_env.from_string(
            "{{ t | dt }}|{{ d | date }}|{{ a | money(c) }}"
        ).render(t=UTC_NOON, d=date(2025, 3, 9), a=Decimal("1234.50"), c=currency)
        assert rendered == f"{stamp}|{day}|{money}"


def test_a_utc_timestamp_in_the_logged_in_accounts_time_zone(app, make):
    prague = make.account("novak", language="cs", timezone="Europe/Prague")
    new_york = make.account("smith", language="cs", timezone="America/New_York")
    late = datetime(2025, 1, 15, 23, 30, tzinfo=UTC)
    shown = {}
    for account in (prague, new_york):
        with app.test_request_context("/"):
            login_user(account)
            shown[account.timezone] = (i18n.fmt_datetime(late), i18n.fmt_date(late))
    assert shown["Europe/Prague"] == ("16. 1. 2025 0:30 SEČ", "16. 1. 2025")
    assert shown["America/New_York"] == ("15. 1. 2025 18:30 -0500", "15. 1. 2025")
    with app.test_request_context("/", headers={"Accept-Language": "cs"}):
        logout_user()
        assert i18n.fmt_datetime(late) == "16. 1. 2025 0:30 SEČ"  # anonymous: DEFAULT_TIMEZONE


def test_naive_timestamps_are_read_as_utc(app):
    with recipient_context("de", "Europe/Berlin"):
        naive = datetime(2025, 7, 1, 22, 30)
        assert i18n.fmt_datetime(naive) == "02.07.2025, 00:30 MESZ"
        assert i18n.fmt_date(naive) == "02.07.2025"
