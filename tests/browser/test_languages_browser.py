"""In a real browser: each language's customer walks the main pages; the switcher works."""

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

# Key phrases per language, as the catalogs translate them.
PHRASES = {
    "en": {"panel": "Customer panel"},
    "pl": {
        "panel": "Panel Klienta",
        "My services": "Moje usługi",
        "My data": "Moje dane",
        "Change of customer": "Cesja usług",
        "Billing": "Rozliczenia",
        "count": "2 usługi",
        "kind": "Hosting",
        "code": "Kod klienta",
        "logout": "Wyloguj",
    },
    "cs": {
        "panel": "Zákaznické centrum",
        "My services": "Moje služby",
        "My data": "Moje údaje",
        "Change of customer": "Změna zákazníka",
        "Billing": "Fakturace",
        "count": "2 služby",
        "kind": "Webhosting",
        "code": "Kód zákazníka",
        "logout": "Odhlásit",
    },
    "de": {
        "panel": "Kundencenter",
        "My services": "Meine Dienste",
        "My data": "Meine Daten",
        "Change of customer": "Kundenwechsel",
        "Billing": "Abrechnung",
        "count": "2 Dienste",
        "kind": "Webhosting",
        "code": "Kunden-Code",
        "logout": "Abmelden",
    },
}


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Browser tests run against SQLite only (the server shares the test's app)."""
    return request.param


def _log_in(page, live_server, login):
    page.goto(f"{live_server}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/services/")


def _assert_page(page, lang, heading):
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").inner_text() == heading
    assert page.title().endswith(PHRASES[lang]["panel"])


@pytest.mark.parametrize("lang", ["pl", "cs", "de"])  # English is the source
def test_a_customer_walks_the_main_pages_in_its_language(live_server, page, make, lang):
    words = PHRASES[lang]
    me = make.account("novak", language=lang, name="Jan Novák", code="egeelhil8")
    make.service(me, domain="novak.cz", kind="webhosting")
    make.service(me, domain="novak.cz", kind="domain")
    _log_in(page, live_server, "novak")
    _assert_page(page, lang, words["My services"])
    case = page.locator("section.case[data-domain='novak.cz']")
    assert case.locator(".case-count").inner_text() == words["count"]
    assert words["kind"] in case.inner_text()
    assert page.locator("header.top button", has_text=words["logout"]).is_visible()
    for name in ("My data", "Change of customer", "Billing", "My services"):
        with page.expect_navigation():
            page.locator("header.top nav a", has_text=words[name]).click()
        _assert_page(page, lang, words[name])
        if name == "My data":
            assert words["code"] in page.locator("dl.facts").inner_text()
            assert page.locator("#language-switch").input_value() == lang


def test_the_switcher_on_the_log_in_page_changes_the_language(live_server, page):
    page.goto(f"{live_server}/login")
    _assert_page(page, "en", "Log in to the customer panel")
    with page.expect_navigation():  # the select submits its form (onchange)
        page.select_option("#language-switch", "cs")
    _assert_page(page, "cs", "Přihlášení do Zákaznického centra")
    assert page.url == f"{live_server}/login"
    page.reload()  # remembered for this visitor
    _assert_page(page, "cs", "Přihlášení do Zákaznického centra")


def test_the_switcher_works_without_javascript(live_server, chromium):
    context = chromium.new_context(java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/login")
        _assert_page(page, "de", "Anmeldung im Kundencenter")  # from Accept-Language
        page.select_option("#language-switch", "pl")
        with page.expect_navigation():
            page.locator("form.lang button[type=submit]").click()
        _assert_page(page, "pl", "Zaloguj się do Panelu Klienta")
    finally:
        context.close()
