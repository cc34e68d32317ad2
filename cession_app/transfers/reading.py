"""A request read as plain rows, for the pages that only show it (GET).

A request's details and its confirmation link's page show one request with its parties,
their accounts, and its items with their services. Read through the ORM, those ten or so
objects cost more than the rest of the link page's database work: the ORM builds its row
loaders anew at every statement and fills every instance attribute by attribute (about
0.5 ms of a 2 ms page). Here the same rows are read with one statement (the request, each
party with its account, each item with its service: a row for each pair of a party and an
item, a handful for a request) into small read-only objects: one round trip to the
database instead of the ORM's two. What pages derive from them (``domain_names``,
``party_for``, ``has_acted`` ...) comes from the same ``RequestFacts`` and ``PartyFacts``
as the models', so there is one definition of each.

Only pages that change nothing use these rows. Whatever changes a request loads it through
the ORM (``operations.load_request``, then the lock), and a read-only row refuses to be
changed, so that a change made to one by mistake fails loudly instead of being lost.
"""

from functools import cached_property

from sqlalchemy import bindparam, select

from ..extensions import built_once, db, one_of
from ..models import Account, HolderChange, Service, TransferItem
from ..models.transfers import PartyFacts, RequestFacts, TransferParty, TransferRequest


class ReadOnlyRow:
    """A row's columns as attributes, under the model's attribute names; read-only."""

    @classmethod
    def of(cls, names, values):
        """The row of ``values`` (in the order of ``names``)."""
        row = object.__new__(cls)
        row.__dict__.update(zip(names, values, strict=True))
        return row

    def _set(self, name, value):
        """Fill in a relation while the row is being read (the rows are read-only after)."""
        self.__dict__[name] = value

    def __setattr__(self, name, value):
        raise AttributeError(
            f"{type(self).__name__} is read-only: load the request with"
            " operations.load_request to change it"
        )

    def __repr__(self):
        return f"<{type(self).__name__} {self.__dict__.get('id')}>"


class AccountRow(ReadOnlyRow):
    """An account as a request's pages show it (name, code, language, time zone ...)."""


class ServiceRow(ReadOnlyRow):
    """A service of a request's item."""


class ItemRow(ReadOnlyRow):
    """An item of a request; ``service`` is its ServiceRow."""


class PartyRow(PartyFacts, ReadOnlyRow):
    """A party of a request; ``account`` is its AccountRow."""


class RequestRow(RequestFacts, ReadOnlyRow):
    """A request with ``parties``, ``items`` and its accounts (``initiator``, ``from_account``,
    ``to_account``)."""

    @cached_property
    def holder_changes(self):
        """Its registry holder changes, read when a page asks (a request that asked for one)."""
        query = (
            select(HolderChange).where(HolderChange.request_id == self.id).order_by(HolderChange.id)
        )
        return db.session.scalars(query).all()


def _names(model):
    """The model's attribute names of its table's columns, in the table's order."""
    mapper = model.__mapper__
    return [mapper.get_property_by_column(column).key for column in model.__table__.c]


_REQUEST, _PARTY, _ACCOUNT = (_names(m) for m in (TransferRequest, TransferParty, Account))
_ITEM, _SERVICE = _names(TransferItem), _names(Service)
# Where a row's party, account, item and service begin (each begins with its id).
_P = len(_REQUEST)
_A = _P + len(_PARTY)
_I = _A + len(_ACCOUNT)
_S = _I + len(_ITEM)

# Built once: their SQL is compiled and cached once too. The same rows as load_request's.
_requests, _parties = TransferRequest.__table__, TransferParty.__table__
_accounts, _items, _services = Account.__table__, TransferItem.__table__, Service.__table__
_READ_REQUEST = (
    select(_requests, _parties, _accounts, _items, _services)
    .select_from(
        _requests.outerjoin(_parties, _parties.c.request_id == _requests.c.id)
        .outerjoin(_accounts, _accounts.c.id == _parties.c.account_id)
        .outerjoin(_items, _items.c.request_id == _requests.c.id)
        .outerjoin(_services, _services.c.id == _items.c.service_id)
    )
    .where(_requests.c.id == bindparam("request_id"))
    .order_by(_parties.c.id, _items.c.id)
)


@built_once
def _read_accounts():
    return select(_accounts).where(one_of(_accounts.c.id, "ids"))


def read_request(request_id):
    """The request as a read-only RequestRow with everything its pages show, or None."""
    rows = db.session.execute(_READ_REQUEST, {"request_id": request_id}).all()
    if not rows:
        return None
    request = RequestRow.of(_REQUEST, rows[0][:_P])
    accounts = {}
    parties, items = {}, {}  # by id, in the order of the rows: the parties', the items'
    for row in rows:
        # None: a request without parties or without items (the outer joins' rows)
        if row[_P] is not None and row[_P] not in parties:
            party = parties[row[_P]] = PartyRow.of(_PARTY, row[_P:_A])
            account = accounts[party.account_id] = AccountRow.of(_ACCOUNT, row[_A:_I])
            party._set("account", account)
        if row[_I] is not None and row[_I] not in items:
            item = items[row[_I]] = ItemRow.of(_ITEM, row[_I:_S])
            item._set("service", ServiceRow.of(_SERVICE, row[_S:]))
    request._set("parties", list(parties.values()))
    named = (request.initiator_id, request.from_account_id, request.to_account_id)
    missing = [account_id for account_id in named if account_id not in accounts]
    if missing:  # every one of them is a party; read any that is not all the same
        for row in db.session.execute(_read_accounts(), {"ids": missing}):
            accounts[row.id] = AccountRow.of(_ACCOUNT, row)
    request._set("initiator", accounts.get(request.initiator_id))
    request._set("from_account", accounts.get(request.from_account_id))
    request._set("to_account", accounts.get(request.to_account_id))
    # The first party's rows (or the only ones) hold every item, in the order of their ids.
    request._set("items", list(items.values()))
    return request


def accounts_of(request):
    """{id: account} of a request's parties, as read with it."""
    return {party.account_id: party.account for party in request.parties}
