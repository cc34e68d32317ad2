"""A domain's page explains how its holder in the registry (WHOIS) is changed; the review
and the link page say what the taking-over account takes on."""

import pytest

from cession_app.transfers import operations
from tests.lifecycle_helpers import push


@pytest.mark.parametrize(
    "domain, registry, step",
    [
        ("novak.cz", "CZ.NIC", "own contact ID"),
        ("kowalska.pl", "NASK", "valid for 7 days"),
        ("mueller.de", "DENIC", "DISPUTE entry"),
        ("firma.eu", "EURid", "EU eligibility"),
        ("smith.com", "ICANN", "for 60 days"),
    ],
)
def test_domain_page_explains_the_holder_change(client, make, log_in, domain, registry, step):
    me = make.account("novak")
    dom = make.service(me, domain=domain, kind="domain")
    log_in("novak")
    page = client.get(f"/services/{dom.external_id}").text
    assert 'id="holder-change"' in page and f"({registry}):" in page and step in page


def test_the_holder_change_link_is_a_setting(app, client, make, log_in):
    app.config["HOLDER_CHANGE_URL"] = "https://acme.test/holder-change"
    me = make.account("novak")
    dom = make.service(me, domain="novak.cz", kind="domain")
    web = make.service(me, domain="novak.cz", kind="webhosting")
    log_in("novak")
    assert (
        'href="https://acme.test/holder-change"' in client.get(f"/services/{dom.external_id}").text
    )
    assert "holder-change" not in client.get(f"/services/{web.external_id}").text


def test_link_page_says_what_the_new_owner_takes_on(client, make):
    me = make.account("novak")
    other = make.account("svoboda", name="Eva Svobodová")
    request = push(make, me, other, make.service(me, domain="novak.cz"))
    token = operations.confirm_token(request, request.party_for(other.id))
    page = client.get(f"/transfers/requests/{request.id}/respond/{token}").text
    assert "From the transfer on, Eva Svobodová owns these services with full rights" in page
