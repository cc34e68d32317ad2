"""Small factories for test data (committed, so other connections see it)."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from cession_app.extensions import db
from cession_app.models import Account, PaymentRequest, Service

PASSWORD = "correct horse battery"

# A provider's bank details (the payment page and the billing downloads need them).
BANK = {
    "BANK_ACCOUNT_HOLDER": "Acme Hosting s.r.o.",
    "BANK_IBAN": "CZ65 0800 0000 1920 0014 5399",
    "BANK_BIC": "GIBACZPX",
    "BANK_ACCOUNT_NUMBER": "19-2000145399/0800",
}
_seq = itertools.count(1)


def account(login=None, language="en", timezone="Europe/Prague", staff=False, **fields):
    """A committed account with the test password."""
    n = next(_seq)
    login = login or f"user{n}"
    acc = Account(
        login=login,
        code=fields.pop("code", f"{login[:8]}{n % 10}"),
        number=fields.pop("number", str(100000 + n)),
        name=fields.pop("name", login.title()),
        email=fields.pop("email", f"{login}@example.test"),
        language=language,
        timezone=timezone,
        is_staff=staff,
        billing_name=fields.pop("billing_name", login.title()),
        billing_address=fields.pop("billing_address", "Street 1, Town"),
        **fields,
    )
    acc.set_password(PASSWORD)
    db.session.add(acc)
    db.session.commit()
    return acc


def service(owner, domain="example.cz", kind="webhosting", payer=None, days=200, **fields):
    """A committed service of ``owner`` (and ``payer``, by default the owner)."""
    n = next(_seq)
    svc = Service(
        external_id=fields.pop("external_id", f"S-{n}"),
        domain=domain,
        kind=kind,
        owner_id=owner.id,
        payer_id=(payer or owner).id,
        expires_on=fields.pop("expires_on", date.today() + timedelta(days=days)),
        state=fields.pop("state", "active"),
        auto_renew=fields.pop("auto_renew", True),
    )
    db.session.add(svc)
    db.session.commit()
    return svc


def payment_request(svc, amount="199.00", currency="CZK", paid_on=None, due_in=10, **fields):
    """A committed payment request of ``svc`` (unpaid unless ``paid_on``)."""
    n = next(_seq)
    pr = PaymentRequest(
        external_id=fields.pop("external_id", f"PR-{n}"),
        service_id=svc.id,
        payer_id=svc.payer_id,
        issued_on=fields.pop("issued_on", date.today() - timedelta(days=1)),
        due_on=fields.pop("due_on", date.today() + timedelta(days=due_in)),
        amount=Decimal(amount),
        currency=currency,
        paid_on=paid_on,
    )
    db.session.add(pr)
    db.session.commit()
    return pr
