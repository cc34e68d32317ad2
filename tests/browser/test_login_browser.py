"""In a real browser (Debian's Chromium): log in and open My services."""

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Browser tests run against SQLite only (the server shares the test's app)."""
    return request.param


def test_log_in_and_see_my_services(live_server, page, make):
    me = make.account("novak", name="Jan Novák", code="egeelhil8")
    make.service(me, domain="novak.cz", kind="webhosting")
    page.goto(f"{live_server}/login")
    page.fill("#login", "novak")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/services/")
    assert page.locator("h1").inner_text() == "My services"
    assert "(egeelhil8)" in page.locator("header.top").inner_text()
    assert page.locator("section.case[data-domain='novak.cz']").is_visible()
