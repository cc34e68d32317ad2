"""Billing POSTs need a CSRF token when protection is on (as in production)."""

import re
from datetime import date

import pytest
from flask import g

from cession_app.extensions import db
from cession_app.models import TaxDocumentRequest
from tests.test_billing_tax_documents import executed_transfer

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


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
    assert client.post("/staff/payment-requests/PR-C/paid").status_code == 400
    db.session.refresh(pr)
    assert pr.paid_on is None
    page = client.get("/staff/").get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    client.post("/staff/payment-requests/PR-C/paid", data={"csrf_token": token})
    db.session.refresh(pr)
    assert pr.paid_on is not None


def test_tax_document_request_without_token_changes_nothing(client, make):
    old = make.account("novak")
    make.account("svoboda")
    new = db.session.scalar(db.select(type(old)).filter_by(login="svoboda"))
    svc = make.service(old, domain="novak.cz")
    make.payment_request(svc, external_id="PR-7", paid_on=date(2026, 3, 12))
    transfer = executed_transfer(old, new, [svc])
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"login": "svoboda", "password": make.PASSWORD, "csrf_token": token})
    url = f"/billing/transfers/{transfer.id}/tax-documents/PR-7"
    assert client.post(url).status_code == 400
    assert db.session.scalar(db.select(TaxDocumentRequest)) is None


def test_a_sessions_token_is_signed_once_and_still_checked(app, client, make):
    """A session's signed token is kept (never expires here); another session has its own,
    and a token of one session does not work in another."""
    make.account("owner")
    first = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    assert TOKEN.search(client.get("/login").get_data(as_text=True)).group(1) == first
    g.pop("csrf_token", None)  # the tests' app context outlives requests; a worker's does not
    other = app.test_client()
    theirs = TOKEN.search(other.get("/login").get_data(as_text=True)).group(1)
    assert theirs != first
    data = {"login": "owner", "password": make.PASSWORD}
    assert other.post("/login", data={**data, "csrf_token": first}).status_code == 400
    assert client.post("/login", data={**data, "csrf_token": first}).status_code == 302
