"""axe-core over every page the walk of tests/test_hardcoded_strings.py renders (the same
pages the Nu HTML Checker reads in tests/test_pages_valid_html.py): 0 violations.

One Chromium page serves the collected HTML from a fake origin (``page.route``), with the
stylesheets and images of ``static/`` answered by the app's test client, so that axe sees
each page as styled (colour contrast, target sizes) without a running server.
"""

import pytest

from tests.test_hardcoded_strings import (  # noqa: F401 (fixtures)
    app_config,
    pseudo_translations,
    walk,
    world,
)

pytestmark = pytest.mark.browser
ORIGIN = "http://cession.test"
# A mail's HTML part (the development mailbox shows it as its own document) is not a page:
# mail clients know no landmarks, and its heading is the subject line. The rules about the
# structure of a page do not apply to it; every other rule does.
MAIL_DOCUMENT = "dev.message_html "
PAGE_STRUCTURE = ("landmark-one-main", "page-has-heading-one", "region")


@pytest.fixture(params=["sqlite"])
def backend(request):
    """The walk's pages do not depend on the database: SQLite only."""
    return request.param


def _serve(pages, static):
    """A route handler: ``/__page__/<n>`` answers page n, everything else the test client."""

    def handle(route):
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/__page__/"):
            html = pages[int(path.rsplit("/", 1)[1])][1]
            return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        with static.get(path) as response:  # a file response: closed once read
            route.fulfill(
                status=response.status_code,
                content_type=response.content_type,
                body=response.get_data(),
            )

    return handle


def test_every_page_has_no_axe_violations(app, client, world, log_in, page, axe):  # noqa: F811
    pages = []
    walk(app, client, world, log_in, on_page=lambda label, html: pages.append((label, html)))
    assert len(pages) > 40
    page.route(f"{ORIGIN}/**", _serve(pages, app.test_client()))
    problems = []
    for number, (label, _html) in enumerate(pages):
        page.goto(f"{ORIGIN}/__page__/{number}", wait_until="load")
        found = axe(page, label)
        if label.startswith(MAIL_DOCUMENT):
            found = [p for p in found if p.split(": ")[1].split(" ")[0] not in PAGE_STRUCTURE]
        problems.extend(found)
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems)
