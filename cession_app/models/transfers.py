"""Transfer requests ("cesja", "žádost o převod", "Übertragungsanfrage")."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

# Life cycle: awaiting -> confirmed -> executed; or declined, cancelled, expired, failed.
# With REQUIRE_APPROVAL: awaiting -> approval (staff approve or decline) -> confirmed -> ...
OPEN_STATES = ("awaiting", "approval", "confirmed")
END_STATES = ("executed", "declined", "cancelled", "expired", "failed")
DIRECTIONS = ("push", "pull")  # push: to another customer; pull: to my account
CHANGES = ("both", "owner", "payer")


class RequestFacts:
    """What a request's pages and rules derive from its columns, parties and items.

    Shared by the model and by the read-only rows of the pages that only show a request
    (``transfers/reading.py``): one definition for both.
    """

    @property
    def is_open(self):
        """True while the request can still be confirmed, declined or cancelled."""
        return self.state in OPEN_STATES

    @property
    def domains(self):
        """The domains (business cases) of the request, the first (primary) one first."""
        found = [item.service.domain for item in self.items]
        return list(dict.fromkeys([self.domain, *found]))

    @property
    def domain_names(self):
        """The request's domains as one line, for titles and mails."""
        return ", ".join(self.domains)

    def items_by_domain(self):
        """[(domain, [items])] in the order of ``domains``."""
        groups = {domain: [] for domain in self.domains}
        for item in self.items:
            groups.setdefault(item.service.domain, []).append(item)
        return [(domain, items) for domain, items in groups.items() if items]

    @property
    def whois_domains(self):
        """The domains with a domain service in the request (the WHOIS notice is per domain)."""
        return list(
            dict.fromkeys(i.service.domain for i in self.items if i.service.kind == "domain")
        )

    def holder_change_for(self, domain):
        """True when the initiator asked for the registry holder of ``domain`` to change."""
        asked = self.holder_domains
        return bool(self.holder_change) and (asked is None or domain in asked)

    def party_for(self, account_id):
        """The party row of this account, or None."""
        return next((p for p in self.parties if p.account_id == account_id), None)


class TransferRequest(RequestFacts, db.Model):
    """A request to move the owner and/or payer of services of one business case."""

    __tablename__ = "transfer_requests"
    __table_args__ = (
        Index("ix_transfer_requests_state_expires", "state", "expires_at"),
        # The worker takes confirmed requests in id order.
        Index("ix_transfer_requests_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    change: Mapped[str] = mapped_column(String(8), default="both")
    domain: Mapped[str] = mapped_column(String(253), index=True)  # the staff search
    initiator_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    to_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    notify_email: Mapped[str | None] = mapped_column(String(254))
    notify_language: Mapped[str] = mapped_column(String(5), default="en")
    state: Mapped[str] = mapped_column(String(16), default="awaiting")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # Makes a double submit of the wizard create a single request.
    submit_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The day (provider's time zone) from which a confirmed request may execute; None: at once.
    execute_on: Mapped[date | None] = mapped_column(Date)
    # The unpaid payment requests (external ids) the new payer takes over, if any.
    handover_payments: Mapped[list | None] = mapped_column(JSON)
    # The initiator asked for the domain holder in the registry to change too.
    holder_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The moving domains whose holder is to change (None: every moving domain, as before).
    holder_domains: Mapped[list | None] = mapped_column(JSON)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    initiator = relationship("Account", foreign_keys=[initiator_id])
    from_account = relationship("Account", foreign_keys=[from_account_id])
    to_account = relationship("Account", foreign_keys=[to_account_id])
    items = relationship(
        "TransferItem",
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="TransferItem.id",
        lazy="selectin",
    )
    holder_changes = relationship(
        "HolderChange", back_populates="request", order_by="HolderChange.id", lazy="selectin"
    )
    parties = relationship(
        "TransferParty",
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="TransferParty.id",
        lazy="selectin",
    )


class TransferItem(db.Model):
    """One service in a request, with the owner and payer before and after."""

    __tablename__ = "transfer_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("transfer_requests.id"), index=True)
    # Indexed: the requests a service was ever in (staff search, API filter by domain).
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    old_owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    old_payer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    new_owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    new_payer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))

    request = relationship("TransferRequest", back_populates="items")
    service = relationship("Service")


# A service is in at most one open request: the database enforces the lock (a partial
# unique index: its predicate is added with the dialect, see add_dialect_options).
ACTIVE_SERVICE_INDEX = Index(
    "uq_transfer_items_active_service", TransferItem.service_id, unique=True
)


# The predicate of the partial index above, per dialect.
ACTIVE_SERVICE_WHERE = {"postgresql": "active", "sqlite": "active = 1"}


def add_dialect_options(dialect):
    """Give the models their DDL options for ``dialect`` ("postgresql", "sqlite"): the
    predicate of the partial index above. Added with the dialect, not at import: naming a
    ``postgresql_*`` option imports SQLAlchemy's postgresql package (2.4 MB in every SQLite
    web worker), a ``sqlite_*`` one its sqlite package (0.6 MB in every PostgreSQL one)."""
    if dialect in ACTIVE_SERVICE_WHERE:
        ACTIVE_SERVICE_INDEX.dialect_options[dialect]["where"] = text(ACTIVE_SERVICE_WHERE[dialect])


@event.listens_for(TransferItem.__table__, "before_create")
def _before_create(table, connection, **kw):
    add_dialect_options(connection.dialect.name)


class PartyFacts:
    """What pages and rules derive from a party's columns (the model and its read-only row)."""

    @property
    def role_list(self):
        """The roles as a list."""
        return [r for r in self.roles.split(",") if r]

    @property
    def has_acted(self):
        """True once the party has confirmed or declined."""
        return self.confirmed_at is not None or self.declined_at is not None


class TransferParty(PartyFacts, db.Model):
    """An account involved in a request; confirms once whatever its roles."""

    __tablename__ = "transfer_parties"
    __table_args__ = (UniqueConstraint("request_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("transfer_requests.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # Comma-separated roles: owner_from, owner_to, payer_from, payer_to.
    roles: Mapped[str] = mapped_column(String(64))
    must_confirm: Mapped[bool] = mapped_column(Boolean, default=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request = relationship("TransferRequest", back_populates="parties")
    account = relationship("Account", lazy="joined")
