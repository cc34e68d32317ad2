"""The main pages in Chromium, checked by the Nu HTML Checker (0 errors) and axe-core
(0 violations), as a customer (in each language), by a confirmation link and as staff."""

import pytest

from tests.browser import main_pages

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Browser tests run against SQLite only (the server shares the test's app)."""
    return request.param


def _check(page, url, name, vnu, axe, problems):
    response = page.goto(url)
    assert response.status == 200, f"{name} {url}: {response.status}"
    vnu.add(name, page.content())
    problems.extend(axe(page, name))


@pytest.fixture
def app_config(app_config):
    """With CSRF on, as in production: its hidden fields are part of every form."""
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


@pytest.mark.parametrize("language", ["en", "pl", "cs", "de"])
def test_main_pages_are_valid_and_accessible(live_server, page, make, vnu, axe, language):
    pages = main_pages.build(make, language=language)
    problems = []
    _check(page, f"{live_server}/login", "login", vnu, axe, problems)
    _check(page, f"{live_server}{pages.link}", "link", vnu, axe, problems)
    _check(page, f"{live_server}{pages.link}/decline", "link decline", vnu, axe, problems)
    main_pages.log_in(page, live_server, pages.login)
    paths = dict(pages.paths, **main_pages.wizard_paths(page, live_server, pages))
    for name, path in paths.items():
        _check(page, f"{live_server}{path}", name, vnu, axe, problems)
    page.click("form[action='/logout'] button")
    main_pages.log_in(page, live_server, pages.staff_login)
    for name, path in pages.staff_paths.items():
        _check(page, f"{live_server}{path}", name, vnu, axe, problems)
    problems.extend(vnu.errors())
    assert not problems, "\n".join(problems)


def test_the_checkers_find_problems(page, vnu, axe):
    """The fixtures' own check: a duplicate id and an image without alt text are found."""
    html = (
        '<!doctype html><html lang="en"><head><title>x</title></head><body><main>'
        '<p id="a">1</p><p id="a">2</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        "</main></body></html>"
    )
    page.set_content(html)
    assert any("image-alt" in problem for problem in axe(page, "bad"))
    vnu.add("bad", html)
    errors = vnu.errors()
    assert any("Duplicate ID" in error for error in errors)
    assert any("alt" in error for error in errors)
