"""Fixtures: app per database backend, client, runner, log-in helper, SMTP server, browser."""

import asyncio
import os
import socket
import threading
from email import message_from_bytes, policy

import pytest
from flask import g, request_started
from sqlalchemy import text

from cession_app import create_app
from cession_app.extensions import db, limiter
from tests import factories

POSTGRES_URL = os.environ.get("CESSION_TEST_POSTGRES_URL")
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# ---------------------------------------------------------------- SMTP server
def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CaughtMail:
    """Messages received by the test SMTP server.

    ``refused`` maps a recipient to the answer its RCPT gets (e.g. "550 5.1.1 no such
    mailbox"); ``delay`` holds each message that long before answering (it counts as
    received at once, as a real server that got the data but not yet the client's QUIT).
    """

    def __init__(self):
        self.messages = []
        self.peers = []  # the client end of each message's connection
        self.refused = {}
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        """Refuse the addresses in ``refused``, take the others."""
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        """Keep the message (then wait ``delay``)."""
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(msg)
            self.peers.append(session.peer)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def to(self, address):
        """Messages addressed to ``address``."""
        return [m for m in self.messages if address in m["To"]]

    def clear(self):
        """Forget the messages caught so far, and refuse nobody, without delay."""
        with self.lock:
            self.messages.clear()
            self.peers.clear()
            self.refused = {}
            self.delay = 0.0


class SwitchedSmtp:
    """An SMTP server on a fixed port that a test stops (SMTP down) and starts again."""

    def __init__(self):
        self.mail = CaughtMail()
        self.port = free_port()
        self.controller = None

    def start(self):
        """Listen (again) on the same port."""
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.mail, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        """Stop listening: connections are refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1, for the whole session."""
    from aiosmtpd.controller import Controller

    handler = CaughtMail()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def switched_smtp():
    """An SMTP server the test starts and stops (not started yet)."""
    server = SwitchedSmtp()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server):
    """The SMTP server's mailbox, empty at the start of the test."""
    smtp_server.clear()
    return smtp_server


# ---------------------------------------------------------------- translations
@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """Compile stale or missing .mo files first: Flask-Babel caches catalogs per process."""
    from tests.i18n_support import compile_catalogs

    compile_catalogs()


# ---------------------------------------------------------------- app and database
def _backends():
    params = ["sqlite"]
    if POSTGRES_URL or UNDER_CI:
        params.append("postgresql")
    return params


def base_config(tmp_path, backend, smtp_port):
    """The settings every test app starts from."""
    if backend == "postgresql":
        if not POSTGRES_URL:
            pytest.fail("CI=true but CESSION_TEST_POSTGRES_URL is not set")
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
        "BASE_URL": "http://cession.test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_DEFAULT_SENDER": "cession <noreply@cession.test>",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        # argon2id at the lowest cost: tests hash many passwords (production: README).
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 64,
        "PASSWORD_HASH_PARALLELISM": 1,
        # On by default; tests/security/test_two_factor.py turns it on where it is tested.
        "TWO_FACTOR_REQUIRED_FOR_STAFF": False,
    }


def fresh_schema():
    """Drop everything and create the tables anew (PostgreSQL: the whole public schema)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()


def _forget_request_user(sender, **extra):
    g.pop("_login_user", None)


@pytest.fixture(params=_backends())
def backend(request):
    """The database backend of this run of the test."""
    return request.param


@pytest.fixture
def app_config(tmp_path, backend, smtp_server):
    """Settings for the test app; tests may change them before using ``app``."""
    return base_config(tmp_path, backend, smtp_server.port)


@pytest.fixture
def app(app_config):
    """An app with a fresh, empty schema."""
    app = create_app(app_config)
    # The test keeps an app context (and so ``g``) open across requests: let each request
    # load its own account from its own session cookie, as it does in production.
    request_started.connect(_forget_request_user, app)
    with app.app_context():
        fresh_schema()
        limiter.reset()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def make():
    """The factories (accounts, services, payment requests)."""
    return factories


def login(client, login_name, password=factories.PASSWORD):
    """Log ``client`` in; returns the response."""
    return client.post("/login", data={"login": login_name, "password": password})


@pytest.fixture
def log_in(client):
    """Log the test client in as the given login name."""

    def _log_in(login_name, password=factories.PASSWORD):
        response = login(client, login_name, password)
        assert response.status_code == 302, "log-in failed"
        return client

    return _log_in


# ---------------------------------------------------------------- browser
@pytest.fixture
def live_server(app):
    """The app served over HTTP on 127.0.0.1 in a thread; yields its base URL.

    Set ``app_config["LIVE_SERVER_PORT"]`` (and BASE_URL to match) to serve on a known port,
    so that links in mails lead to this server.
    """
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", app.config.get("LIVE_SERVER_PORT", 0), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        if UNDER_CI:
            pytest.fail(f"CI=true but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watch_csp(page, found):
    """Add the Content-Security-Policy violations Chromium reports on ``page`` to ``found``."""

    def _console(message):
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", _console)
    return found


@pytest.fixture
def csp_report():
    """The CSP violations reported on the test's ``page`` (a test expecting some clears it)."""
    return []


@pytest.fixture
def page(chromium, csp_report):
    """A fresh browser page (own cookies); the test fails on any CSP violation."""
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    watch_csp(page, csp_report)
    yield page
    context.close()
    assert not csp_report, "Content-Security-Policy violations:\n" + "\n".join(csp_report)
