"""A request's details and its confirmation link's page read the request as plain rows
(transfers/reading.py): they show exactly what the ORM's objects showed, in every state, and a
read row cannot be changed by mistake."""

import re

import pytest

from cession_app import worker
from cession_app.extensions import db
from cession_app.transfers import operations, reading
from tests.lifecycle_helpers import confirm_all, fresh, link_for, push

# What differs between two renderings of one page: the CSRF token and the CSP nonce.
_PER_RESPONSE = re.compile(r'(name="csrf_token" type="hidden" value|value|nonce)="[^"]{20,}"')


def _same_page(client, path, monkeypatch):
    """The page read as plain rows, and as the ORM's objects; both 200."""
    plain = client.get(path)
    with monkeypatch.context() as patched:
        patched.setattr(reading, "read_request", operations.load_request)
        orm = client.get(path)
    assert plain.status_code == orm.status_code == 200, (plain.status_code, orm.status_code)
    return _PER_RESPONSE.sub("", plain.text), _PER_RESPONSE.sub("", orm.text)


@pytest.fixture
def requests_in_every_state(app, make, client, smtp):
    """Requests awaiting (two domains, an unpaid payment request handed over, a holder
    change asked for), executed (with its holder change task), declined and failed."""
    app.config["PAYMENT_HANDOVER"] = True
    seller = make.account("seller", name="Jana Prodejová", language="cs")
    buyer = make.account("buyer", name="Karel Kupec <b>", language="de")
    payer = make.account("payer", name="Účetní s.r.o.", language="pl")
    shop = make.service(seller, domain="shop.cz", kind="eshop", payer=payer)
    name = make.service(seller, domain="shop.cz", kind="domain")
    blog = make.service(seller, domain="blog.cz", kind="webhosting")
    unpaid = make.payment_request(shop, amount="1490.00", currency="CZK", due_in=8)
    executed = push(
        make,
        seller,
        buyer,
        make.service(seller, domain="done.cz", kind="domain"),
        holder_change=True,
    )
    db.session.commit()
    worker.run_once()
    confirm_all(client, smtp, executed)
    worker.run_once()
    declined = push(make, seller, buyer, make.service(seller, domain="no.cz"))
    db.session.commit()
    operations.decline(declined, declined.party_for(buyer.id))
    failed = push(make, seller, buyer, make.service(seller, domain="bad.cz"))
    failed.state, failed.failure_reason = "failed", "The registry refused <the change>."
    db.session.commit()
    awaiting = push(
        make, seller, buyer, shop, name, blog, take_over_payments=True, more_domains=["blog.cz"]
    )
    db.session.commit()
    worker.run_once()
    return unpaid, [awaiting.id, executed.id, declined.id, failed.id]


def test_details_pages_show_what_the_orm_showed(
    client, log_in, monkeypatch, requests_in_every_state
):
    unpaid, request_ids = requests_in_every_state
    states = {fresh(request_id).state for request_id in request_ids}
    assert states == {"awaiting", "executed", "declined", "failed"}
    pages = {}
    for login in ("seller", "buyer"):
        log_in(login)
        for request_id in request_ids:
            plain, orm = _same_page(client, f"/transfers/requests/{request_id}", monkeypatch)
            assert plain == orm, (login, request_id)
            pages[login, fresh(request_id).state] = plain
        client.post("/logout")
        client.get("/login")  # shows the flash "You have been logged out"
    # What the rows had to carry is there: both domains, the handed-over payment request,
    # the holder change task, the failure, the history with its actors.
    assert "shop.cz, blog.cz" in pages["buyer", "awaiting"]
    assert f"{unpaid.external_id} (" in pages["buyer", "awaiting"]  # listed, with its kind
    assert "holder-state-open" in pages["seller", "executed"]
    assert "The registry refused &lt;the change&gt;." in pages["seller", "failed"]
    assert "Karel Kupec &lt;b&gt;" in pages["seller", "declined"]


def test_link_pages_show_what_the_orm_showed(app, make, client, smtp, monkeypatch):
    app.config["PAYMENT_HANDOVER"] = True
    seller = make.account("seller", language="cs")
    buyer = make.account("buyer", name="Karel <i>Kupec</i>", language="de")
    payer = make.account("payer", language="pl")
    shop = make.service(seller, domain="shop.cz", kind="eshop", payer=payer)
    make.payment_request(shop, amount="1490.00", currency="CZK", due_in=8)
    request = push(
        make,
        seller,
        buyer,
        shop,
        make.service(seller, domain="shop.cz", kind="domain"),
        take_over_payments=True,
        holder_change=True,
    )
    db.session.commit()
    worker.run_once()
    answering = [p.account for p in request.parties if p.must_confirm and not p.has_acted]
    assert buyer in answering
    for account in answering:
        link = link_for(smtp, account.email)
        for path in (link, f"{link}/decline"):
            plain, orm = _same_page(client, path, monkeypatch)
            assert plain == orm, (account.login, path)
            assert "Transfer" in plain or "Übertragung" in plain or "převod" in plain
    buyers_link = link_for(smtp, buyer.email)
    assert "Karel &lt;i&gt;Kupec&lt;/i&gt;" in _same_page(client, buyers_link, monkeypatch)[0]
    assert fresh(request.id).state == "awaiting"  # showing changed nothing


def test_a_read_request_cannot_be_changed(app, make):
    seller = make.account("seller")
    buyer = make.account("buyer")
    request = push(make, seller, buyer, make.service(seller, domain="shop.cz"))
    db.session.commit()
    read = reading.read_request(request.id)
    assert read.domain_names == "shop.cz" and read.from_account.login == "seller"
    party = read.party_for(buyer.id)
    assert party.account.login == "buyer" and not party.has_acted
    with pytest.raises(AttributeError, match="read-only"):
        read.state = "cancelled"
    with pytest.raises(AttributeError, match="read-only"):
        party.confirmed_at = read.created_at
    assert reading.read_request(request.id + 1000) is None


def test_a_request_whose_account_is_no_party_still_names_it(app, make):
    """Its initiator and the accounts it moves between are always parties; were one not
    (a row removed by hand), the page still names it: it is read on its own."""
    seller = make.account("seller", name="Jana Prodejová")
    buyer = make.account("buyer")
    request = push(make, seller, buyer, make.service(seller, domain="shop.cz"))
    db.session.commit()
    db.session.delete(request.party_for(seller.id))
    db.session.commit()
    read = reading.read_request(request.id)
    assert read.party_for(seller.id) is None
    assert read.initiator.name == read.from_account.name == "Jana Prodejová"
    assert read.to_account.login == "buyer"
