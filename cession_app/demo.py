"""Demo data: a document in the import format, so it is validated like any reseller's file.

The log-ins and what each demonstrates are listed in the README ("Demo log-ins").
Dates are relative to today, so the unpaid payment request is always current and the
expired service always expired.
"""

from datetime import date, timedelta

PASSWORDS = {
    "novak": "novak-demo",
    "svobodova": "svobodova-demo",
    "kowalska": "kowalska-demo",
    "mueller": "mueller-demo",
    "smith": "smith-demo",
    "staff": "staff-demo",
}


def _account(code, number, login, name, email, language, timezone, billing, **extra):
    return {
        "code": code,
        "number": number,
        "login": login,
        "name": name,
        "email": email,
        "language": language,
        "timezone": timezone,
        "password": PASSWORDS[login],
        **extra,
        "billing": dict(zip(("name", "address", "vat_id"), billing, strict=True)),
    }


ACCOUNTS = [
    _account(
        "egeelhil8", "100234", "novak", "Jan Novák", "jan@novak.example", "cs",
        "Europe/Prague", ("Jan Novák", "Dlouhá 1, 110 00 Praha 1", "CZ7001011234"),
    ),
    _account(
        "surdovka3", "100235", "svobodova", "Petra Svobodová", "petra@svobodova.example",
        "cs", "Europe/Prague", ("Účetnictví Svobodová s.r.o.", "Masarykova 12, 602 00 Brno",
                               "CZ28123456"),
    ),
    _account(
        "wiorpask5", "100310", "kowalska", "Anna Kowalska", "anna@kowalska.example", "pl",
        "Europe/Warsaw", ("Kwiaciarnia Anna Kowalska", "ul. Długa 5, 00-238 Warszawa",
                          "PL5260001246"),
    ),
    _account(
        "tuxbrein4", "100402", "mueller", "Klaus Müller", "klaus@mueller-bau.example", "de",
        "Europe/Berlin", ("Müller Bau GmbH", "Hauptstraße 7, 10115 Berlin", "DE811234567"),
    ),
    _account(
        "hopsedge7", "100517", "smith", "Alex Smith", "alex@smith-design.example", "en",
        "Europe/London", ("Smith Design Ltd", "1 High Street, London N1 9GU", "GB123456789"),
    ),
    _account(
        "deskroom1", "900001", "staff", "Reseller Staff", "staff@reseller.example", "en",
        "Europe/Prague", ("", "", ""), staff=True,
    ),
]  # fmt: skip


def _services(today):
    def svc(ext_id, domain, kind, owner, days, payer=None, state="active", auto_renew=True):
        return {
            "id": ext_id,
            "domain": domain,
            "kind": kind,
            "owner": owner,
            "payer": payer or owner,
            "expires_on": (today + timedelta(days=days)).isoformat(),
            "state": state,
            "auto_renew": auto_renew,
        }

    nov, svo, kow, mue, smi = "egeelhil8", "surdovka3", "wiorpask5", "tuxbrein4", "hopsedge7"
    return [
        # novak.cz: a whole business case; the e-shop is paid by Svobodová (payer only),
        # the domain has an issued, unpaid payment request (it cannot be transferred).
        svc("DEMO-1001", "novak.cz", "webhosting", nov, 210),
        svc("DEMO-1002", "novak.cz", "eshop", nov, 150, payer=svo),
        svc("DEMO-1003", "novak.cz", "domain", nov, 25),
        svc("DEMO-1004", "novak.cz", "email", nov, 210),
        svc("DEMO-1101", "svobodova.cz", "webhosting", svo, 300),
        svc("DEMO-1102", "svobodova.cz", "domain", svo, 300),
        # kowalska.pl: free to move (nothing unpaid); kwiaty-kowalska.pl has expired.
        svc("DEMO-2001", "kowalska.pl", "webhosting", kow, 180),
        svc("DEMO-2002", "kowalska.pl", "domain", kow, 180),
        svc("DEMO-2003", "kowalska.pl", "email", kow, 180),
        svc("DEMO-2101", "kwiaty-kowalska.pl", "eshop", kow, -20, state="expired"),
        # mueller-bau.de: free to move, e-mail paid by Smith; the old domain is in termination.
        svc("DEMO-3001", "mueller-bau.de", "webhosting", mue, 240),
        svc("DEMO-3002", "mueller-bau.de", "domain", mue, 240),
        svc("DEMO-3003", "mueller-bau.de", "email", mue, 240, payer=smi),
        svc(
            "DEMO-3101", "mueller-alt.de", "domain", mue, -5, state="terminating", auto_renew=False
        ),
        svc("DEMO-4001", "smith-design.example", "webhosting", smi, 120),
        svc("DEMO-4002", "smith-design.example", "domain", smi, 120),
    ]


def _payment_requests(today):
    def pr(ext_id, service, issued, due, amount, currency, paid=None):
        on = lambda days: (today + timedelta(days=days)).isoformat()  # noqa: E731
        return {
            "id": ext_id,
            "service": service,
            "issued_on": on(issued),
            "due_on": on(due),
            "amount": amount,
            "currency": currency,
            "paid_on": None if paid is None else on(paid),
        }

    return [
        pr("DEMO-PR-1", "DEMO-1003", -5, 5, "349.00", "CZK"),  # issued, not paid
        pr("DEMO-PR-2", "DEMO-1001", -155, -145, "1990.00", "CZK", paid=-150),
        pr("DEMO-PR-3", "DEMO-2001", -185, -175, "249.00", "PLN", paid=-180),
        pr("DEMO-PR-4", "DEMO-3001", -125, -115, "89.90", "EUR", paid=-118),
        pr("DEMO-PR-5", "DEMO-3003", -125, -115, "24.00", "EUR", paid=-120),
    ]


def document(today=None):
    """The demo data as an import document (dates counted from ``today``)."""
    today = today or date.today()
    return {
        "accounts": [dict(a) for a in ACCOUNTS],
        "services": _services(today),
        "payment_requests": _payment_requests(today),
    }
