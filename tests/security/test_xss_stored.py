"""Stored XSS: markup in the data (names, billing details) is text on every page and in
every mail. Walks every page and flow of the pseudo-locale walk (tests/test_hardcoded_strings),
so a new page is covered as soon as it is added there."""

import re

from flask import request_finished

from cession_app.extensions import db
from cession_app.models import OutboxMessage
from tests import factories
from tests.test_hardcoded_strings import (  # noqa: F401 (fixtures of the walk)
    _data_values,
    app_config,
    build_world,
    pseudo_translations,
    walk,
)

RAW = re.compile(r"<b data-xss=")


class HostileFactories:
    """The test factories, with markup in every name and billing detail of an account."""

    def __getattr__(self, name):
        return getattr(factories, name)

    @staticmethod
    def account(login=None, **fields):
        """An account whose name and billing details carry markup."""
        account = factories.account(login, **fields)
        account.name = f'{account.name} <b data-xss="name">'
        account.billing_name = f'{account.billing_name} <b data-xss="billing">'
        account.billing_address = '<b data-xss="address">Street 1'
        db.session.commit()
        return account


def test_markup_in_names_is_text_on_every_page_and_in_every_mail(app, client, log_in):
    world = build_world(HostileFactories())
    world.data = _data_values(world)
    pages = []

    def _keep(sender, response, **extra):
        if response.mimetype == "text/html" and not response.direct_passthrough:
            pages.append((sender.name, response.get_data(as_text=True)))

    request_finished.connect(_keep, app)
    try:
        walk(app, client, world, log_in)
    finally:
        request_finished.disconnect(_keep, app)
    assert len(pages) > 40
    assert any("data-xss" in html for _, html in pages)  # the names were shown ...
    raw = [
        html[max(0, m.start() - 80) : m.end() + 20] for _, html in pages for m in RAW.finditer(html)
    ]
    assert not raw, "unescaped markup on pages:\n" + "\n".join(raw)  # ... as text
    mails = db.session.scalars(db.select(OutboxMessage)).all()
    assert any("data-xss" in m.html_body for m in mails)
    assert not [m.template for m in mails if RAW.search(m.html_body)]
