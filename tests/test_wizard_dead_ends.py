"""The wizard does not lead nowhere: it stops where nothing can move and says what to do,
selects all that can move in one click, and shows the WHOIS notice only with a domain."""

from tests.test_transfer_wizard import row, run_url, step1, text, through_step2


def test_when_nothing_can_move_the_wizard_stops_and_says_what_to_do(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    unpaid = make.service(me, domain="novak.cz", kind="domain")
    make.payment_request(unpaid)
    make.service(me, domain="novak.cz", kind="eshop", state="expired", days=-1)
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    page = text(client.get(f"{run}/services"))
    assert "None of the services of novak.cz can be transferred right now." in page
    assert "start the transfer again" in page
    assert 'href="/services/"' in page and 'href="/transfers/"' in page
    assert 'id="next"' not in page  # no way forward into an empty request
    assert "How to pay it" in row(page, unpaid.external_id)  # and what to do, per service


def test_select_all_that_can_move(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    web = make.service(me, domain="novak.cz", kind="webhosting")
    mail = make.service(me, domain="novak.cz", kind="email")
    blocked = make.service(me, domain="novak.cz", kind="domain")
    make.payment_request(blocked)
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    page = text(client.get(f"{run}/services"))
    assert "Select all that can move" in page
    assert "checked" not in row(page, web.external_id)
    page = text(client.post(f"{run}/services", data={"select_all": "1", "change": "both"}))
    assert "checked" in row(page, web.external_id) and "checked" in row(page, mail.external_id)
    assert "checked" not in row(page, blocked.external_id)


def test_whois_notice_only_when_a_domain_moves(client, make, log_in):
    me = make.account("novak")
    other = make.account("svoboda")
    web = make.service(me, domain="novak.cz", kind="webhosting")
    dom = make.service(me, domain="novak.cz", kind="domain")
    log_in("novak")
    run = through_step2(client, "push", "novak.cz", [web.id], code=other.code)
    assert "WHOIS" not in text(client.get(f"{run}/review"))
    run = through_step2(client, "push", "novak.cz", [web.id, dom.id], code=other.code)
    page = text(client.get(f"{run}/review"))
    assert "WHOIS" in page and f'href="/services/{dom.external_id}#holder-change"' in page
