"""The wizard's Back button used to keep the notify address without validating it, so a
request could be submitted with any address (CR/LF header injection, a non-address); every
step keeps only values it has validated, and the review checks them again."""

import pytest
from sqlalchemy import select
from wtforms.validators import ValidationError

from cession_app.extensions import db
from cession_app.models import TransferRequest
from cession_app.transfers.wizard import SESSION_KEY, ServicesForm

DROPPED = "The extra e-mail address to notify was not valid, so it has not been kept."


@pytest.fixture
def run(client, make, log_in):
    """A push run of Jan's at step 2, and the id of the service it may move."""
    jan = make.account("jan")
    eva = make.account("eva", code="evacode1")
    service = make.service(jan, domain="jan.cz")
    log_in("jan")
    response = client.post("/transfers/wizard/push", data={"domain": "jan.cz", "code": eva.code})
    return response.headers["Location"].removesuffix("/services"), service.id


def _back(client, run, service_id, address):
    data = {"services": [service_id], "change": "both", "notify_email": address, "back": "1"}
    return client.post(f"{run}/services", data=data)


def _kept(client, run):
    with client.session_transaction() as session:
        return session[SESSION_KEY][run.rsplit("/", 1)[-1]]


def _submitted():
    return db.session.scalars(select(TransferRequest)).all()


@pytest.mark.parametrize(
    "address",
    [
        "jan@example.org\r\nBcc: everyone@example.net",
        "jan@example.org\nSubject: free money",
        "not an address",
        "a@b",
        "x" * 300 + "@example.org",
    ],
)
def test_back_does_not_keep_an_invalid_notify_address(client, run, address):
    url, service_id = run
    response = _back(client, url, service_id, address)
    assert response.status_code == 302 and response.headers["Location"].endswith("/party")
    assert _kept(client, url)["notify_email"] == ""
    assert _kept(client, url)["service_ids"] == [service_id]  # the valid values stay
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert DROPPED in page


def test_a_dropped_address_never_reaches_the_request(client, run):
    url, service_id = run
    _back(client, url, service_id, "jan@example.org\r\nBcc: everyone@example.net")
    review = client.get(f"{url}/review").get_data(as_text=True)
    assert "everyone@example.net" not in review
    client.post(f"{url}/review", data={"submit": "1"})
    (created,) = _submitted()
    assert created.notify_email is None


def test_back_keeps_a_valid_notify_address(client, run):
    url, service_id = run
    _back(client, url, service_id, "info@example.org")
    assert _kept(client, url)["notify_email"] == "info@example.org"


def test_back_keeps_only_services_of_the_case_that_may_move(client, run, make):
    url, service_id = run
    foreign = make.service(make.account("ola"), domain="jan.cz")
    data = {"services": [service_id, foreign.id, 2**40], "back": "1", "change": "everything"}
    client.post(f"{url}/services", data=data)
    kept = _kept(client, url)
    assert kept["service_ids"] == [service_id]
    assert kept["change"] == "both"


def test_review_checks_a_kept_address_again(client, run):
    """A run kept by an older version (or any other way) with a bad address: the review
    drops it and sends the customer back to the services step; nothing is submitted."""
    url, service_id = run
    client.post(f"{url}/services", data={"services": [service_id], "change": "both"})
    with client.session_transaction() as session:
        runs = session[SESSION_KEY]
        runs[url.rsplit("/", 1)[-1]]["notify_email"] = "jan@example.org\r\nBcc: x@example.net"
        session[SESSION_KEY] = runs
    response = client.post(f"{url}/review", data={"submit": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/services")
    assert _submitted() == []
    assert _kept(client, url)["notify_email"] == ""
    assert DROPPED in client.get(response.headers["Location"]).get_data(as_text=True)


def test_back_uses_every_check_the_notify_field_has(client, run, monkeypatch):
    """The form's own ``validate_notify_email`` (e.g. a shared address check) counts too."""

    def refuse_example_org(form, field):
        if field.data.endswith("@example.org"):
            raise ValidationError("no")

    monkeypatch.setattr(ServicesForm, "validate_notify_email", refuse_example_org, raising=False)
    url, service_id = run
    _back(client, url, service_id, "info@example.org")
    assert _kept(client, url)["notify_email"] == ""
    _back(client, url, service_id, "info@example.net")
    assert _kept(client, url)["notify_email"] == "info@example.net"
