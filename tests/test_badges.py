"""Service state badges on My services and the service page (one macro: _badges.html)."""

import pytest

from tests.lifecycle_helpers import push


@pytest.fixture
def services(make):
    """Novák's services in every state; Svoboda pays one; one is in an open request."""
    me = make.account("novak")
    other = make.account("svoboda")
    moving = make.service(me, domain="novak.cz", kind="webhosting")
    unpaid = make.service(me, domain="novak.cz", kind="domain")
    pr = make.payment_request(unpaid, amount="349.00", currency="CZK")
    expired = make.service(me, domain="novak.cz", kind="eshop", state="expired", days=-2)
    ending = make.service(me, domain="novak.cz", kind="email", state="terminating")
    foreign_pr = make.payment_request(
        make.service(me, domain="other.cz", payer=other), amount="10.00", currency="EUR"
    )
    request = push(make, me, other, moving)
    return dict(
        moving=moving, unpaid=unpaid, pr=pr, expired=expired, ending=ending,
        request=request, foreign_pr=foreign_pr,
    )  # fmt: skip


def _row(page, service):
    start = page.index(f'data-service="{service.external_id}"')
    return page[start : page.index("</tr>", start)]


def test_my_services_shows_a_badge_per_state(client, log_in, services):
    log_in("novak")
    page = client.get("/services/").text
    request_id = services["request"].id
    moving = _row(page, services["moving"])
    assert "badge-transfer" in moving
    assert (
        f'href="/transfers/requests/{request_id}">In open transfer request {request_id}' in moving
    )
    unpaid = _row(page, services["unpaid"])
    assert "badge-unpaid" in unpaid and "349.00" in unpaid and "due on" in unpaid
    assert f'href="/billing/documents/{services["pr"].external_id}"' in unpaid
    assert '<li class="badge badge-expired">Expired</li>' in _row(page, services["expired"])
    assert "badge-terminating" in _row(page, services["ending"])
    # A payment request made out to another payer: shown, but no link to its document.
    foreign = _row(page, services["foreign_pr"].service)
    assert "badge-unpaid" in foreign and "/billing/documents/" not in foreign


def test_the_service_page_shows_the_same_badges(client, log_in, services):
    log_in("novak")
    moving = client.get(f"/services/{services['moving'].external_id}").text
    assert f"In open transfer request {services['request'].id}" in moving
    unpaid = client.get(f"/services/{services['unpaid'].external_id}").text
    assert "badge-unpaid" in unpaid and "349.00" in unpaid


def test_a_payer_who_is_no_party_sees_the_lock_without_a_link(client, make, log_in):
    owner = make.account("owner")
    payer = make.account("payer")
    taker = make.account("taker")
    svc = make.service(owner, domain="owner.cz", payer=payer)
    push(make, owner, taker, svc, change="owner")  # the payer stays: not a party
    log_in("payer")
    row = _row(client.get("/services/").text, svc)
    assert "In an open transfer request" in row and "/transfers/requests/" not in row


def test_my_services_shows_every_unpaid_payment_request_the_oldest_first(client, make, log_in):
    """Read with the services in one statement: each unpaid one, in the order issued; paid
    and cancelled ones not; a service without any shows none, and no service twice."""
    from datetime import date, timedelta

    from cession_app.extensions import db
    from tests.test_billing import count_statements

    me = make.account("novak")
    billed = make.service(me, domain="novak.cz", kind="domain")
    today = date.today()
    make.payment_request(billed, amount="30.00", issued_on=today - timedelta(days=1))
    make.payment_request(billed, amount="10.00", issued_on=today - timedelta(days=30))
    make.payment_request(billed, amount="77.00", paid_on=today)
    cancelled = make.payment_request(billed, amount="88.00")
    cancelled.cancelled_on = today
    db.session.commit()
    clean = make.service(me, domain="novak.cz", kind="webhosting")
    log_in("novak")
    with count_statements() as seen:
        page = client.get("/services/").text
    row = _row(page, billed)
    assert row.count("badge-unpaid") == 2 and row.index("10.00") < row.index("30.00")
    assert "77.00" not in page and "88.00" not in page
    assert "badge-unpaid" not in _row(page, clean)
    assert page.count(f'data-service="{billed.external_id}"') == 1
    reads = [s for s in seen if "services" in s or "payment_requests" in s]
    assert len(reads) == 1 and "payment_requests" in reads[0]  # one statement for both
