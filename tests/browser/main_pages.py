"""The main pages of the app with data that stresses them (long names, every state), for
the browser walks: phone width (test_phone_browser.py) and the page checkers."""

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from cession_app.transfers import operations
from tests.factories import PASSWORD

LONG_NAME = "Zofia Wrona-Szczepańska, Grafik- und Webdesignstudio Międzyrzecz"
DOMAIN = "wrona-studio-grafik-und-webdesign-miedzyrzecz.pl"
DOMAIN2 = "wrona-fotografie-und-druckerei-miedzyrzecz.eu"  # joins the wizard's run


@dataclass
class MainPages:
    """Who logs in, and the paths of the pages to open (name -> path)."""

    login: str
    staff_login: str
    paths: dict = field(default_factory=dict)
    staff_paths: dict = field(default_factory=dict)
    wizard_domain: str = DOMAIN
    wizard_code: str = ""
    wizard_domain2: str = DOMAIN2


def build(make, language="de"):
    """Accounts, services in every state, an open request, payment requests."""
    me = make.account("wrona", language=language, name=LONG_NAME, code="wronazof1")
    other = make.account("mueller", language=language, name="Hans-Joachim Müller-Lüdenscheidt")
    make.account("staff", staff=True, name="Staff")
    web = make.service(me, domain=DOMAIN, kind="webhosting")
    dom = make.service(me, domain=DOMAIN, kind="domain")
    shop = make.service(me, domain=DOMAIN, kind="eshop", payer=other)
    mail = make.service(me, domain=DOMAIN, kind="email")
    make.service(me, domain=DOMAIN, kind="webhosting", state="expired", days=-3)
    unpaid = make.payment_request(mail, amount="12349.00", currency="CZK")
    endpoint = _integrations()
    make.payment_request(web, amount="99.00", currency="EUR", paid_on=web.expires_on)
    request = operations.create_request(
        me,
        direction="push",
        domain=DOMAIN,
        other=other,
        service_ids=[shop.id],
        change="both",
        notify_email="buchhaltung@example.test",
    )
    make.service(me, domain=DOMAIN2, kind="domain")
    several = operations.create_request(
        me,
        direction="push",
        domain="wrona-druckerei.de",
        more_domains=["wrona-grafik.at"],
        other=other,
        service_ids=[
            make.service(me, domain="wrona-druckerei.de", kind="domain").id,
            make.service(me, domain="wrona-grafik.at", kind="webhosting").id,
        ],
        holder_change=True,
    )
    token = operations.confirm_token(request, request.party_for(other.id))
    pages = MainPages(login="wrona", staff_login="staff", wizard_code=other.code)
    pages.paths = {
        "my services": "/services/",
        "service": f"/services/{web.external_id}",
        "service locked": f"/services/{shop.external_id}",
        "terminate": f"/services/{dom.external_id}/terminate",
        "transfers": "/transfers/",
        "request": f"/transfers/requests/{request.id}",
        "request of two domains": f"/transfers/requests/{several.id}",
        "cancel": f"/transfers/requests/{request.id}/cancel",
        "wizard start": "/transfers/wizard/push",
        "billing": "/billing/",
        "payment request": f"/billing/documents/{unpaid.external_id}",
        "my data": "/my-data",
    }
    pages.link = f"/transfers/requests/{request.id}/respond/{token}"
    pages.staff_paths = {
        "staff": "/billing/staff",
        "outbox": "/billing/staff/outbox",
        "api keys": "/staff/api-keys",
        "webhooks": "/staff/webhooks",
        "webhook endpoint": f"/staff/webhooks/{endpoint.id}",
    }
    return pages


def _integrations():
    """An API key and a webhook endpoint with a long URL (its log fills with the request)."""
    from cession_app.api.auth import create_key
    from cession_app.extensions import db
    from cession_app.webhooks import operations as webhooks

    create_key("billing-sync", ["read", "sync", "transfers"])
    url = "https://billing.wrona-studio-grafik-und-webdesign.example/hooks/cession/receiver"
    endpoint = webhooks.create_endpoint(url, ["*"])
    db.session.commit()
    return endpoint


def log_in(page, base, login):
    """Log in through the form."""
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/services/")


def wizard_paths(page, base, pages):
    """Run the push wizard up to its review (with the forms' CSRF tokens); its steps' paths."""
    start = page.request.get(f"{base}/transfers/wizard/push").text()
    response = page.request.post(
        f"{base}/transfers/wizard/push",
        form={
            "domain": pages.wizard_domain,
            "code": pages.wizard_code,
            "next": "1",
            "csrf_token": _csrf(start),
        },
    )
    party_done = response.url
    assert party_done.endswith("/services"), party_done
    run = party_done.rsplit("/", 1)[0]
    html = page.request.get(party_done).text()
    ids = _service_ids(html)
    form = {"services": ids[0], "change": "both", "csrf_token": _csrf(html)}
    response = page.request.post(party_done, form={**form, "add_domain": "1"})
    assert response.url.endswith("/add-domain"), response.url
    added = page.request.post(
        response.url,
        form={"domain": pages.wizard_domain2, "add": "1", "csrf_token": form["csrf_token"]},
    )
    assert added.url.endswith("/services"), added.url
    ids = _service_ids(added.text())
    body = urlencode({**form, "services": [ids[0], ids[-1]], "next": "1"}, doseq=True)
    response = page.request.post(
        party_done,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.url.endswith("/review"), response.url
    return {
        "wizard party": run.replace(base, "") + "/party",
        "wizard services": run.replace(base, "") + "/services",
        "wizard add domain": run.replace(base, "") + "/add-domain",
        "wizard review": run.replace(base, "") + "/review",
    }


def _csrf(html):
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    return found.group(1) if found else ""


def _service_ids(html):
    return [
        value
        for value, disabled in re.findall(
            r'name="services" value="(\d+)"[^>]*?(disabled)?>', html.replace("\n", " ")
        )
        if not disabled
    ]
