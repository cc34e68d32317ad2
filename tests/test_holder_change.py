"""A registry holder change as part of the request (issue 15, item 4): a staff task after
execution, with the new holder's billing data and the registry's rules; the parties see its
state on the request page; the WHOIS notice says it is under way."""

import pytest
from sqlalchemy import select

from cession_app import worker
from cession_app.extensions import db
from cession_app.models import HolderChange
from tests.lifecycle_helpers import confirm_all, fresh, link_for, push
from tests.test_transfer_wizard import requests_in_db, text, through_step2


@pytest.fixture
def moved(app, make, client, smtp):
    """novak.pl's domain moved to Svoboda with a holder change; executed."""
    novak = make.account("novak", language="en")
    svoboda = make.account(
        "svoboda", language="en", billing_name="Svoboda s.r.o.", billing_address="Hlavní 1, Brno"
    )
    make.account("helpdesk", staff=True, language="en")
    domain = make.service(novak, domain="novak.pl", kind="domain")
    request = push(make, novak, svoboda, domain, holder_change=True)
    db.session.commit()
    worker.run_once()
    assert "separate request" not in text_of_link_page(client, smtp, svoboda)
    confirm_all(client, smtp, request)
    worker.run_once()
    assert fresh(request.id).state == "executed"
    return fresh(request.id)


def text_of_link_page(client, smtp, account):
    return text(client.get(link_for(smtp, account.email)))


def tasks():
    db.session.expire_all()
    return db.session.scalars(select(HolderChange)).all()


def test_execution_creates_a_task_with_the_new_holder_and_the_registry_rules(
    moved, client, log_in, smtp
):
    [task] = tasks()
    assert (task.domain, task.state, task.new_holder.code) == (
        "novak.pl",
        "open",
        moved.to_account.code,
    )
    mail = smtp.to(moved.to_account.email)[-1].get_body(("plain",)).get_content()
    assert "holder in the registry is under way" in mail
    log_in("helpdesk")
    page = text(client.get("/staff/holder-changes/"))
    assert "Svoboda s.r.o." in page and "Hlavní 1, Brno" in page
    assert ".pl (NASK)" in page


def test_staff_mark_it_done_and_the_parties_see_it(moved, client, log_in):
    [task] = tasks()
    log_in("svoboda")
    assert "being arranged by the provider" in text(client.get(f"/transfers/requests/{moved.id}"))
    assert client.get("/staff/holder-changes/").status_code == 404  # customers never
    assert client.post(f"/staff/holder-changes/{task.id}", data={"done": "1"}).status_code == 404
    client.post("/logout")
    log_in("helpdesk")
    client.post(f"/staff/holder-changes/{task.id}", data={"done": "1"})
    assert tasks()[0].state == "done"
    client.post("/logout")
    log_in("novak")
    assert "changed in the registry" in text(client.get(f"/transfers/requests/{moved.id}"))


def test_a_refusal_needs_a_reason_which_the_parties_read(moved, client, log_in):
    [task] = tasks()
    log_in("helpdesk")
    response = client.post(
        f"/staff/holder-changes/{task.id}", data={"refuse": "1"}, follow_redirects=True
    )
    assert "Please say why" in text(response) and tasks()[0].state == "open"
    client.post(
        f"/staff/holder-changes/{task.id}",
        data={"refuse": "1", "reason": "The registry shows a dispute <b>entry</b>."},
    )
    assert tasks()[0].state == "refused"
    client.post("/logout")
    log_in("svoboda")
    page = client.get(f"/transfers/requests/{moved.id}").get_data(as_text=True)
    assert "dispute &lt;b&gt;entry&lt;/b&gt;" in page


def test_no_task_without_the_tick_or_without_a_domain(make, client, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz", kind="webhosting")
    dom = make.service(novak, domain="novak.cz", kind="domain")
    plain = push(make, novak, svoboda, web, holder_change=True)  # no domain among them
    db.session.commit()
    assert not plain.holder_change
    worker.run_once()
    confirm_all(client, smtp, plain)
    other = push(make, novak, svoboda, dom)  # a domain, not ticked
    db.session.commit()
    assert not other.holder_change
    worker.run_once()
    confirm_all(client, smtp, other)
    worker.run_once()
    assert fresh(plain.id).state == fresh(other.id).state == "executed"
    assert tasks() == []


def test_the_wizard_offers_it_when_a_domain_moves(make, client, log_in):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    dom = make.service(novak, domain="novak.de", kind="domain")
    log_in("novak")
    run = through_step2(client, "push", "novak.de", [dom.id], code=svoboda.code)
    assert "Also change the domain holder in the registry" in text(client.get(f"{run}/review"))
    client.post(f"{run}/review", data={"submit": "1", "holder_change": "y"})
    [created] = requests_in_db()
    assert created.holder_change
