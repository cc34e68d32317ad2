"""My services: grouping, roles, owner-only controls."""

from cession_app.extensions import db


def test_services_grouped_by_case_with_roles(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda", name="Petr Svoboda")
    make.service(me, domain="novak.cz", kind="webhosting")
    make.service(me, domain="novak.cz", kind="domain")
    make.service(other, domain="svoboda.cz", kind="eshop", payer=me)
    log_in("novak")
    page = client.get("/services/").get_data(as_text=True)
    assert page.index("novak.cz") < page.index("svoboda.cz")
    assert "Owner, Payer" in page
    assert "owner: Petr Svoboda" in page


def test_open_payment_request_is_shown(client, make, log_in):
    me = make.account("novak")
    svc = make.service(me, domain="novak.cz")
    make.payment_request(svc, amount="199.00", currency="CZK")
    log_in("novak")
    page = client.get("/services/").get_data(as_text=True)
    assert "CZK" in page and "199.00" in page


def test_owner_can_terminate_and_change_auto_renew(client, make, log_in):
    me = make.account("novak")
    svc = make.service(me)
    log_in("novak")
    client.post(f"/services/{svc.external_id}", data={"auto_renew": ""})
    db.session.refresh(svc)
    assert svc.auto_renew is False
    client.post(f"/services/{svc.external_id}/terminate")
    db.session.refresh(svc)
    assert svc.state == "terminating"


def test_payer_sees_no_controls_and_is_refused_with_403(client, make, log_in):
    owner = make.account("owner")
    make.account("payer")
    svc = make.service(
        owner, payer=db.session.scalar(db.select(type(owner)).filter_by(login="payer"))
    )
    log_in("payer")
    page = client.get("/services/").get_data(as_text=True)
    assert svc.external_id in page
    assert "Terminate" not in page and "Change parameters" not in page
    assert client.post(f"/services/{svc.external_id}/terminate").status_code == 403
    assert client.post(f"/services/{svc.external_id}", data={"auto_renew": ""}).status_code == 403
    db.session.refresh(svc)
    assert svc.state == "active" and svc.auto_renew is True


def test_stranger_gets_404(client, make, log_in):
    owner = make.account("owner")
    make.account("stranger")
    svc = make.service(owner)
    log_in("stranger")
    assert client.get(f"/services/{svc.external_id}").status_code == 404
    assert client.post(f"/services/{svc.external_id}/terminate").status_code == 404


def test_transfer_links_of_my_services_are_those_of_url_for(app):
    from flask import url_for

    from cession_app.services.listing import _MARK, _transfer_url

    with app.test_request_context():
        template = url_for("transfers.index", domain=_MARK)
        for domain in ("novak.cz", "a-b_c~d.pl", "řeka.cz", "a b&c=d.cz", "x/y?.cz", "0domain0"):
            assert _transfer_url(domain, template) == url_for("transfers.index", domain=domain)


def test_an_external_id_is_quoted_in_links_and_escaped_in_text(client, make, log_in):
    me = make.account("novak")
    make.service(me, domain="novak.cz", external_id="S <1>&2")
    make.service(me, domain="novak.cz", external_id="S-2")
    log_in("novak")
    page = client.get("/services/").get_data(as_text=True)
    assert 'data-service="S &lt;1&gt;&amp;2"' in page
    assert 'href="/services/S%20%3C1%3E%262"' in page
    assert 'href="/services/S%20%3C1%3E%262/terminate"' in page
    assert 'data-service="S-2"' in page and 'href="/services/S-2"' in page
