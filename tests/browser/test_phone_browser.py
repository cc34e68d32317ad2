"""At a phone's width (390 px) every main page fits: no horizontal scroll; the navigation
folds behind a Menu button (static/menu.js); buttons are at least 44 px high."""

import pytest

from tests.browser import main_pages

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Browser tests run against SQLite only (the server shares the test's app)."""
    return request.param


@pytest.fixture
def phone(chromium, csp_report):
    """A page at 390 px (a phone), failing the test on any CSP violation."""
    from tests.conftest import watch_csp

    context = chromium.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    watch_csp(page, csp_report)
    yield page
    context.close()
    assert not csp_report, "Content-Security-Policy violations:\n" + "\n".join(csp_report)


def _overflow(page):
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _check_fits(page, url, problems):
    response = page.goto(url)
    assert response.status == 200, f"{url}: {response.status}"
    scroll_width, inner_width = _overflow(page)
    if scroll_width > inner_width:
        problems.append(f"{url}: scrollWidth {scroll_width} > innerWidth {inner_width}")
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                'main button, main .button, main input[type=submit]')]
            .filter(b => b.offsetParent !== null && b.getBoundingClientRect().height < 44)
            .map(b => b.outerHTML.slice(0, 80))"""
    )
    if small:
        problems.append(f"{url}: buttons lower than 44 px: {small}")


def test_every_main_page_fits_a_phone(live_server, phone, make):
    pages = main_pages.build(make)
    problems = []
    _check_fits(phone, f"{live_server}/login", problems)
    _check_fits(phone, f"{live_server}{pages.link}", problems)  # the link, not logged in
    main_pages.log_in(phone, live_server, pages.login)
    paths = dict(pages.paths, **main_pages.wizard_paths(phone, live_server, pages))
    for path in paths.values():
        _check_fits(phone, f"{live_server}{path}", problems)
    phone.goto(f"{live_server}/services/")
    phone.click("form[action='/logout'] button")
    main_pages.log_in(phone, live_server, pages.staff_login)
    for path in pages.staff_paths.values():
        _check_fits(phone, f"{live_server}{path}", problems)
    assert not problems, "\n".join(problems)


def test_the_menu_button_opens_the_navigation(live_server, phone, make):
    pages = main_pages.build(make, language="en")
    main_pages.log_in(phone, live_server, pages.login)
    nav = phone.locator("#main-nav")
    button = phone.get_by_role("button", name="Menu")
    assert button.is_visible() and not nav.is_visible()
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    assert nav.is_visible() and button.get_attribute("aria-expanded") == "true"
    nav.get_by_role("link", name="Billing").click()
    phone.wait_for_url("**/billing/")
    assert phone.locator("h1").inner_text() == "Billing"


def test_tables_become_cards_with_labels(live_server, phone, make):
    pages = main_pages.build(make, language="en")
    main_pages.log_in(phone, live_server, pages.login)
    row = phone.locator("table.services tr[data-service]").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    label = row.locator("td[data-label]").first.evaluate(
        "td => getComputedStyle(td, '::before').content"
    )
    assert label == '"My role"'


def test_desktop_shows_the_navigation_without_a_menu_button(live_server, page, make):
    pages = main_pages.build(make, language="en")
    main_pages.log_in(page, live_server, pages.login)
    assert page.locator("#main-nav").is_visible()
    assert not page.get_by_role("button", name="Menu").is_visible()
