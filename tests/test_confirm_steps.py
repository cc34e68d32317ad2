"""Destructive actions (Terminate, Decline, Cancel) ask first, on a page of their own.

The GET page says what will happen and whether it can be undone and changes nothing; only
its POST button (in the danger style) acts. Terminate is not offered on a service locked
in an open transfer request, and says why.
"""

from cession_app.extensions import db
from cession_app.transfers import operations
from tests.lifecycle_helpers import fresh, push


def _state(service):
    db.session.expire_all()
    return db.session.get(type(service), service.id).state


def test_terminate_asks_first_and_only_the_post_acts(client, make, log_in):
    me = make.account("novak")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    listing = client.get("/services/").text
    assert f'href="/services/{svc.external_id}/terminate"' in listing
    assert 'method="post" action="/services/' not in listing  # no one-click form any more
    page = client.get(f"/services/{svc.external_id}/terminate")
    assert page.status_code == 200
    assert "Terminate Webhosting novak.cz?" in page.text
    assert "cannot be undone" in page.text
    assert 'class="danger solid"' in page.text and 'value="Yes, terminate the service"' in page.text
    assert "No, keep the service" in page.text
    assert _state(svc) == "active"  # opening the page changed nothing
    response = client.post(f"/services/{svc.external_id}/terminate")
    assert response.status_code == 302
    assert _state(svc) == "terminating"


def test_service_page_links_to_the_confirmation_step(client, make, log_in):
    me = make.account("novak")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    page = client.get(f"/services/{svc.external_id}").text
    assert f'<a class="button danger" href="/services/{svc.external_id}/terminate">' in page


def test_terminate_is_not_offered_on_a_locked_service_and_says_why(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    request = push(make, me, other, svc)
    log_in("novak")
    listing = client.get("/services/").text
    assert f"/services/{svc.external_id}/terminate" not in listing
    assert "Cannot be terminated while it is in an open transfer request." in listing
    page = client.get(f"/services/{svc.external_id}").text
    assert f"/services/{svc.external_id}/terminate" not in page
    assert "cannot be terminated until that request ends" in page
    assert f"/transfers/requests/{request.id}" in page
    step = client.get(f"/services/{svc.external_id}/terminate").text
    assert "This service cannot be terminated now" in step
    assert f"open transfer request (number {request.id})" in step
    assert "Yes, terminate" not in step
    response = client.post(f"/services/{svc.external_id}/terminate", follow_redirects=True)
    assert f"open transfer request (number {request.id})" in response.text
    assert _state(svc) == "active"
    operations.cancel(fresh(request.id), me)
    assert f"/services/{svc.external_id}/terminate" in client.get("/services/").text


def test_a_payer_gets_no_confirmation_page(client, make, log_in):
    owner = make.account("owner")
    payer = make.account("payer")
    svc = make.service(owner, payer=payer)
    log_in("payer")
    assert client.get(f"/services/{svc.external_id}/terminate").status_code == 403


def test_decline_asks_first_on_the_request_page(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    request = push(make, me, other, make.service(me, domain="novak.cz"))
    log_in("svoboda")
    detail = client.get(f"/transfers/requests/{request.id}").text
    assert f'href="/transfers/requests/{request.id}/decline"' in detail
    step = client.get(f"/transfers/requests/{request.id}/decline")
    assert "Decline the transfer of novak.cz?" in step.text
    assert "This cannot be undone" in step.text
    assert f'action="/transfers/requests/{request.id}/answer"' in step.text
    assert fresh(request.id).state == "awaiting"
    client.post(f"/transfers/requests/{request.id}/answer", data={"decline": "Yes"})
    assert fresh(request.id).state == "declined"


def test_decline_asks_first_through_the_link(client, make):
    me = make.account("novak")
    other = make.account("svoboda")
    request = push(make, me, other, make.service(me, domain="novak.cz"))
    token = operations.confirm_token(request, request.party_for(other.id))
    link = f"/transfers/requests/{request.id}/respond/{token}"
    assert f'href="{link}/decline"' in client.get(link).text
    step = client.get(f"{link}/decline")
    assert step.status_code == 200
    assert "Decline the transfer of novak.cz?" in step.text
    assert f'action="{link}"' in step.text
    assert fresh(request.id).state == "awaiting"
    assert client.get(f"/transfers/requests/{request.id}/respond/forged/decline").status_code in (
        400,
        403,
        404,
    )
    client.post(link, data={"decline": "Yes, decline the transfer"})
    assert fresh(request.id).state == "declined"


def test_cancel_asks_first_and_only_the_initiator_may(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    request = push(make, me, other, make.service(me, domain="novak.cz"))
    log_in("svoboda")
    assert client.get(f"/transfers/requests/{request.id}/cancel").status_code == 403
    client.post("/logout")
    log_in("novak")
    step = client.get(f"/transfers/requests/{request.id}/cancel")
    assert "Cancel the transfer request for novak.cz?" in step.text
    assert "Yes, cancel the request" in step.text
    assert fresh(request.id).state == "awaiting"
    client.post(f"/transfers/requests/{request.id}/cancel")
    assert fresh(request.id).state == "cancelled"
    # An ended request has nothing to cancel: its confirmation page leads back to it.
    assert client.get(f"/transfers/requests/{request.id}/cancel").status_code == 302
