"""An imported customer without a password: invitation mail, sets a password, signs in, and
confirms a transfer link, in Chromium."""

import re

import pytest

from cession_app.extensions import db
from cession_app.models import TransferRequest
from cession_app.transfers import operations
from cession_app.worker import run_once
from tests.conftest import free_port

pytestmark = pytest.mark.browser
NEW = "my first own secret"


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Browser tests run against SQLite only (the server shares the test's app)."""
    return request.param


@pytest.fixture
def app_config(app_config):
    port = free_port()
    app_config.update(LIVE_SERVER_PORT=port, BASE_URL=f"http://127.0.0.1:{port}")
    return app_config


def _link(smtp, address, base_url, path):
    for message in reversed(smtp.to(address)):
        text = message.get_body(("plain",)).get_content()
        found = re.search(re.escape(base_url) + path + r"\S+", text)
        if found:
            return found.group(0)
    raise AssertionError(f"no {path} link to {address}")


def test_imported_customer_is_invited_sets_a_password_and_confirms(
    live_server, page, make, smtp, runner
):
    owner = make.account("kowalska", code="kowalska1")
    newcomer = make.account("nowak", code="nowakpio7", email="piotr@nowak.example")
    newcomer.password_hash = None  # imported without a password
    db.session.commit()
    service = make.service(owner, domain="kowalska.pl")
    request = operations.create_request(
        owner,
        direction="push",
        domain="kowalska.pl",
        other=newcomer,
        service_ids=[service.id],
        change="both",
    )
    db.session.commit()

    result = runner.invoke(args=["invite", "nowakpio7"])
    assert "Invited 1 account(s)" in result.output
    run_once()
    invitation = _link(smtp, "piotr@nowak.example", live_server, "/password/invitation/")

    page.goto(invitation)
    page.fill("#password", NEW)
    page.fill("#confirm", NEW)
    page.click("#submit")
    page.wait_for_url("**/login")
    page.fill("#login", "nowak")
    page.fill("#password", NEW)
    page.click("#submit")
    page.wait_for_url("**/services/")

    confirm = _link(
        smtp, "piotr@nowak.example", live_server, f"/transfers/requests/{request.id}/respond/"
    )
    page.goto(confirm)
    page.locator("[name='confirm']").click()
    page.wait_for_load_state()
    db.session.expire_all()
    party = db.session.get(TransferRequest, request.id).party_for(newcomer.id)
    assert party.confirmed_at is not None
