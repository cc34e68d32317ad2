"""Response headers: a strict Content-Security-Policy (no inline script or style), no framing
(clickjacking), no MIME sniffing, no referrer, and no caching of pages with live links."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug.routing.converters import AnyConverter, NumberConverter

from cession_app.transfers import operations
from tests.conftest import free_port
from tests.factories import PASSWORD
from tests.lifecycle_helpers import push

TEMPLATES = Path(operations.__file__).resolve().parents[1] / "templates"


def _policy(response):
    header = response.headers.get("Content-Security-Policy", "")
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def _assert_hardened(response, label):
    policy = _policy(response)
    assert policy.get("default-src") == ["'self'"], label
    assert policy.get("frame-ancestors") == ["'none'"], label
    assert policy.get("form-action") == ["'self'"], label
    assert policy.get("base-uri") == ["'none'"], label
    assert policy.get("object-src") == ["'none'"], label
    for directive in ("script-src", "style-src"):
        assert directive not in policy, label  # falls back to default-src 'self'
    assert not [v for values in policy.values() for v in values if "unsafe" in v], label
    assert response.headers.get("X-Frame-Options") == "DENY", label
    assert response.headers.get("X-Content-Type-Options") == "nosniff", label
    assert response.headers.get("Referrer-Policy") == "no-referrer", label


@pytest.fixture
def world(make):
    """Jan hands a webhosting over to Eva; Eva's link; a payment document of Jan's."""
    jan = make.account("jan")
    eva = make.account("eva")
    web = make.service(jan, domain="jan.cz")
    pr = make.payment_request(make.service(jan, domain="jan.cz", kind="eshop"))
    request = push(make, jan, eva, web)
    token = operations.confirm_token(request, request.party_for(eva.id))
    link = f"/transfers/requests/{request.id}/respond/{token}"
    return {"jan": jan, "request": request, "link": link, "document": pr}


def _sample(converter):
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return 1 if isinstance(converter, NumberConverter) else "x"


def _sample_url(rule):
    values = {arg: _sample(rule._converters[arg]) for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_answer_of_every_route_is_hardened(app, client, world, log_in):
    log_in("jan")
    anonymous = app.test_client()
    for rule in app.url_map.iter_rules():
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who in (client, anonymous):
                response = who.open(url, method=method)
                # /healthz answers 503 by design while no worker runs (tests/test_health.py)
                failing = response.status_code >= 500 and rule.endpoint != "health.healthz"
                assert not failing, (method, url)
                _assert_hardened(response, f"{method} {url} -> {response.status_code}")


def test_error_pages_and_static_files_are_hardened(client):
    for url in ("/no-such-page", "/static/style.css", "/static/language.js"):
        with client.get(url) as response:
            _assert_hardened(response, url)
    _assert_hardened(client.get("/logout"), "405")


@pytest.mark.parametrize("page", ["link", "request", "document", "billing"])
def test_pages_with_live_links_or_documents_are_never_cached(client, world, log_in, page):
    if page != "link":
        log_in("jan")
    url = {
        "link": world["link"],
        "request": f"/transfers/requests/{world['request'].id}",
        "document": f"/billing/documents/{world['document'].external_id}",
        "billing": "/billing/",
    }[page]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_request_page_and_link_page_refuse_to_be_framed(client, world, log_in):
    log_in("jan")
    for url in (world["link"], f"/transfers/requests/{world['request'].id}"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["X-Frame-Options"] == "DENY"
        assert _policy(response)["frame-ancestors"] == ["'none'"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_of_a_page_has_inline_script_or_style():
    """Mails keep their inline styles (mail programs need them); pages have none."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.relative_to(TEMPLATES).parts[0] == "emails":
            continue
        for pattern, what in INLINE:
            for match in pattern.finditer(path.read_text()):
                found.append(f"{path.relative_to(TEMPLATES)}: {what}: {match.group(0)!r}")
    assert not found, "\n".join(found)


# ---------------------------------------------------------------- in Chromium
def _framing_refusals(violations):
    return [v for v in violations if "frame-ancestors" in v]


def _wait_until(page, condition, seconds=15):
    """Let the browser work until ``condition()`` holds (fails after ``seconds``)."""
    for _ in range(seconds * 10):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the browser did not get there in time")


@pytest.mark.browser
class TestInChromium:
    """The browser enforces the headers (SQLite only: the server shares the test's app)."""

    @pytest.fixture(params=["sqlite"])
    def backend(self, request):
        """Browser tests run against SQLite only."""
        return request.param

    @pytest.fixture
    def attacker(self):
        """Another site (another origin on this machine) that frames a page: its URL."""
        pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                body = pages["frame"].encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def frame(*urls):
            frames = "".join(f'<iframe src="{url}" width=800 height=600></iframe>' for url in urls)
            pages["frame"] = f"<h1>Win a prize</h1>{frames}"
            return f"http://localhost:{server.server_port}/prize"

        yield frame
        server.shutdown()
        server.server_close()
        thread.join(5)

    def test_another_site_cannot_frame_the_confirmation_or_request_page(
        self, live_server, page, world, csp_report, attacker
    ):
        page.goto(f"{live_server}/login")  # the victim is logged in
        page.fill("#login", "jan")
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_url("**/services/")
        target = f"{live_server}{world['link']}"
        page.goto(attacker(target, f"{live_server}/transfers/requests/{world['request'].id}"))
        page.wait_for_load_state("load")
        assert len(page.frames) == 3
        for frame in page.frames[1:]:
            _wait_until(page, lambda f=frame: f.url.startswith("chrome-error:"))  # refused
            assert frame.locator("button").count() == 0  # nothing to click through it
        _wait_until(page, lambda: len(_framing_refusals(csp_report)) >= 2)  # and says why
        csp_report[:] = [v for v in csp_report if v not in _framing_refusals(csp_report)]
        page.goto(target)  # opened directly, the same page works
        assert page.get_by_role("button", name="Confirm the transfer").is_visible()

    def test_browser_tests_fail_on_a_csp_violation(self, page, csp_report):
        """The ``page`` fixture's check itself: inline style, handler and script are seen."""
        page.route(
            "http://inline.test/**",
            lambda route: route.fulfill(
                content_type="text/html",
                headers={"Content-Security-Policy": "default-src 'self'"},
                body='<p style="color:red" onclick="go()">x</p><script>var a = 1;</script>',
            ),
        )
        page.goto("http://inline.test/")
        _wait_until(page, lambda: len(csp_report) >= 2)
        csp_report.clear()

    def test_pages_work_under_the_policy(self, live_server, page, make, world):
        """Log in, switch the language (a script file), terminate a service (no inline
        handler): no CSP violation (the ``page`` fixture fails on any)."""
        page.goto(f"{live_server}/login")
        page.fill("#login", "jan")
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_url("**/services/")
        with page.expect_navigation():
            page.select_option("#language-switch", "de")
        assert page.locator("h1").inner_text() == "Meine Dienste"
        shop = world["document"].service
        row = page.locator(f"tr[data-service='{shop.external_id}']")
        row.get_by_role("button").click()
        page.wait_for_url("**/services/")
        assert "Kündigung" in page.locator(".flash").inner_text()
