"""Mails a customer trusts: the provider's brand and footer, a one-line summary, the
services and what changes, one clear button with the plain link below it, a viewport and
one column; in the recipient's language, with a matching text part."""

import pytest

from cession_app.extensions import db
from cession_app.models import OutboxMessage
from tests.lifecycle_helpers import push

BRAND = {
    "BRAND_NAME": "Acme Hosting",
    "BRAND_COLOR": "#aa3300",
    "BRAND_FOOTER": "Acme Hosting s.r.o., Dlouhá 1, Praha",
    "SUPPORT_EMAIL": "help@acme.test",
    "SUPPORT_PHONE": "+420 222 333 444",
}
SUMMARY = {
    "en": "Zofia Wrona moves 3 services of wrona-studio.pl to your account",
    "pl": "Zofia Wrona przenosi 3 usługi domeny wrona-studio.pl na Twoje konto",
    "cs": "Zofia Wrona převádí 3 služby domény wrona-studio.pl na váš účet",
    "de": "Zofia Wrona überträgt 3 Dienste von wrona-studio.pl auf Ihren Kunden-Account",
}
BUTTON = {
    "en": "Confirm or decline the transfer",
    "pl": "Potwierdź lub odrzuć cesję",
    "cs": "Potvrdit nebo odmítnout převod",
    "de": "Übertragung bestätigen oder ablehnen",
}


@pytest.fixture
def app_config(app_config):
    """An installation with a brand of its own."""
    app_config.update(BRAND)
    return app_config


def _mail_to(account):
    query = db.select(OutboxMessage).where(
        OutboxMessage.account_id == account.id, OutboxMessage.template == "confirm_request"
    )
    return db.session.scalars(query).one()


@pytest.mark.parametrize("language", ["en", "pl", "cs", "de"])
def test_confirmation_mail_has_brand_summary_button_and_viewport(app, make, language):
    me = make.account("wrona", name="Zofia Wrona")
    other = make.account("novak", name="Jan Novák", language=language)
    services = [
        make.service(me, domain="wrona-studio.pl", kind=kind)
        for kind in ("webhosting", "email", "domain")
    ]
    request = push(make, me, other, *services)
    mail = _mail_to(other)
    html, text = mail.html_body, mail.text_body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width:600px" in html
    assert "Acme Hosting" in html and "Acme Hosting s.r.o., Dlouhá 1, Praha" in html
    assert "help@acme.test" in html and "+420 222 333 444" in html
    assert SUMMARY[language] in html and text.startswith(SUMMARY[language])
    link = f"http://cession.test/transfers/requests/{request.id}/respond/"
    button = html[html.index('<a class="button"') :]
    assert button.startswith(f'<a class="button" href="{link}')
    assert BUTTON[language] in button[: button.index("</a>")]
    assert html.count(f'href="{link}') == 2  # the button and the plain link below it
    assert "WHOIS" in html and "WHOIS" in text  # a domain moves
    assert "Acme Hosting" in text and "help@acme.test" in text


def test_no_whois_note_without_a_domain(app, make):
    me = make.account("wrona", name="Zofia Wrona")
    other = make.account("novak")
    push(make, me, other, make.service(me, domain="wrona-studio.pl", kind="webhosting"))
    mail = _mail_to(other)
    assert "WHOIS" not in mail.html_body and "WHOIS" not in mail.text_body
