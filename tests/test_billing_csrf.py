"""Billing POSTs need a CSRF token when protection is on (as in production)."""

import re

import pytest

from cession_app.extensions import db

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def app_config(app_config):
    """CSRF protection on, as in production."""
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_mark_paid_without_token_changes_nothing_and_with_token_works(client, make):
    owner = make.account("owner")
    make.account("staffer", staff=True)
    pr = make.payment_request(make.service(owner), external_id="PR-C")
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"login": "staffer", "password": make.PASSWORD, "csrf_token": token})
    assert client.post("/billing/staff/payment-requests/PR-C/paid").status_code == 400
    db.session.refresh(pr)
    assert pr.paid_on is None
    page = client.get("/billing/staff").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    client.post("/billing/staff/payment-requests/PR-C/paid", data={"csrf_token": token})
    db.session.refresh(pr)
    assert pr.paid_on is not None
