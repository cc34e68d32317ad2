"""A logged-in customer who opens a confirmation link meant for another account is told
whose link it is and that the current log-in is another account, before the buttons."""

import pytest

from cession_app.transfers import operations
from tests.lifecycle_helpers import fresh, push

NOTICE = "This link is meant for another account"


@pytest.fixture
def link(make):
    """Jan hands a webhosting over to Eva: Eva's confirmation link."""
    jan = make.account("jan", name="Jan Novák", code="jancode1")
    eva = make.account("eva", name="Eva Svobodová", code="evacode1")
    make.account("ola", name="Ola Kowalska", code="olacode1", language="pl")
    request = push(make, jan, eva, make.service(jan, domain="jan.cz"))
    token = operations.confirm_token(request, request.party_for(eva.id))
    return f"/transfers/requests/{request.id}/respond/{token}", request


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["jan", "ola"])  # the other party, or a stranger
def test_another_accounts_link_says_whose_it_is_before_the_buttons(client, log_in, link, who):
    log_in(who)
    page = _page(client, link[0])
    lang = "pl" if who == "ola" else "en"
    notice = {"en": NOTICE, "pl": "Ten link jest przeznaczony dla innego konta"}[lang]
    assert notice in page
    assert "Eva Svobodová (evacode1)" in page  # whose link it is
    me = {"jan": "Jan Novák (jancode1)", "ola": "Ola Kowalska (olacode1)"}[who]
    assert me in page  # who is logged in
    assert page.index(notice) < page.index('name="confirm"')
    assert page.index(notice) < page.index('/decline"')
    step = _page(client, f"{link[0]}/decline")  # and again on Decline's confirmation step
    assert notice in step and step.index(notice) < step.index('name="decline"')


def test_own_link_has_no_notice(client, log_in, link):
    log_in("eva")
    assert NOTICE not in _page(client, link[0])


def test_link_opened_without_log_in_has_no_notice(client, link):
    page = _page(client, link[0])
    assert NOTICE not in page and "This link was sent to Eva Svobodová (evacode1)" in page


def test_answer_through_someone_elses_link_answers_for_the_links_account(client, log_in, link):
    """The buttons still work (a colleague may answer for the account): for Eva, not Jan."""
    log_in("jan")
    url, request = link
    assert client.post(url, data={"confirm": "1"}).status_code == 200
    request = fresh(request.id)
    answered = {p.account.login for p in request.parties if p.confirmed_at}
    assert answered == {"eva"}
