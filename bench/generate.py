"""Data generator: a fresh schema from the Alembic migrations, then rows in bulk.

No web and no ORM objects: SQLAlchemy Core ``insert()`` with executemany in batches
(SQLite), ``COPY`` (PostgreSQL). Explicit ids, so rows refer to each other without
reading anything back. One argon2id hash is computed once and shared by every account.
"""

import itertools
import logging
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import flask_migrate
from sqlalchemy import MetaData, create_engine, func, make_url, select, text

from cession_app import create_app, init_migrations, passwords, pgdriver
from cession_app.extensions import db
from cession_app.models import (
    Account,
    PaymentRequest,
    Service,
    TransferItem,
    TransferParty,
    TransferRequest,
)

SECRET_KEY = "cession-bench-fixed-secret-key"
PASSWORD = "bench-password"
PROBE_LOGIN = "probe"
BATCH = 10_000
CASE_SIZE = 4
KINDS = ("webhosting", "eshop", "domain", "email")
TLDS = (("cz", "CZK"), ("pl", "PLN"), ("de", "EUR"), ("com", "EUR"))
LANGS = (("cs", "Europe/Prague"), ("pl", "Europe/Warsaw"), ("de", "Europe/Berlin"))
# One in five requests open (awaiting), half executed, the rest ended otherwise.
STATES = (
    ("awaiting",) * 4
    + ("executed",) * 10
    + ("declined", "cancelled") * 2
    + (
        "expired",
        "failed",
    )
)
ENDED = ("executed", "declined", "cancelled", "expired")


def bench_app(url, **config):
    """The cession app on the bench database, with the fixed bench secret key."""
    settings = {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": "",
    }
    settings.update(config)
    app = create_app(settings)
    init_migrations(app)
    return app


def sizes(n_services):
    """Row counts for a scale: 1M services -> 200k accounts, 100k requests, 200k payments."""
    probe = min(50, n_services // 4)
    return {
        "services": n_services,
        "accounts": max(n_services // 5, 20),
        "probe_services": probe,
        "probe_requests": probe,
        "requests": max(n_services // 10, probe),
    }


# ---------------------------------------------------------------- schema
def fresh_schema(url):
    """Drop whatever is there, then build the schema with the migrations (flask db upgrade)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        _create_database(url)
    app = bench_app(url)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            meta = MetaData()
            with db.engine.begin() as conn:
                meta.reflect(conn)
                meta.drop_all(conn)
        flask_migrate.upgrade()
        db.engine.dispose()
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _create_database(url):
    """A PostgreSQL database named in ``url`` that does not exist yet is created (through
    the server's ``postgres`` database, as ``createdb`` does)."""
    url = make_url(url).set(drivername="postgresql+psycopg")
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            if found is None:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        engine.dispose()


# ---------------------------------------------------------------- bulk path
def bulk_insert(conn, table, rows):
    """Insert dict rows in batches: COPY on PostgreSQL, executemany elsewhere. Returns count."""
    count = 0
    rows = iter(rows)
    while batch := list(itertools.islice(rows, BATCH)):
        count += len(batch)
        if conn.dialect.name == "postgresql":
            cols = list(batch[0])
            names = ", ".join(f'"{c}"' for c in cols)
            pgdriver.begin_now(conn)  # COPY in the transaction of ``conn``
            with conn.connection.driver_connection.cursor() as cur:
                with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row([row[c] for c in cols])
        else:
            conn.execute(table.insert(), batch)
    return count


class Layout:
    """Where every row goes: ids, owners and business cases, computed, never read back."""

    def __init__(self, n_services, today, now):
        s = sizes(n_services)
        self.n, self.accounts = n_services, s["accounts"]
        self.probe_services, self.probe_requests = s["probe_services"], s["probe_requests"]
        self.bulk_requests = max(s["requests"] - self.probe_requests, 0)
        self.cases = (self.n - self.probe_services) // CASE_SIZE
        self.bulk_requests = min(self.bulk_requests, max(self.cases - self.probe_requests, 0))
        self.today, self.now = today, now

    def owner(self, case):
        return 2 + case % (self.accounts - 1)

    def other(self, account_id, step=7):
        other = 2 + (account_id - 2 + step) % (self.accounts - 1)
        return other if other != account_id else 2 + (account_id - 1) % (self.accounts - 1)

    def payer(self, case):
        return self.other(self.owner(case), 1) if case % 10 == 9 else self.owner(case)

    def case_service_ids(self, case):
        first = self.probe_services + 1 + case * CASE_SIZE
        return list(range(first, min(first + CASE_SIZE, self.n + 1)))

    def probe_case_ids(self, k):
        first = 1 + k * 5
        return list(range(first, min(first + 5, self.probe_services + 1)))


def _accounts(lay, pw_hash):
    for i in range(1, lay.accounts + 1):
        lang, tz = ("en", "Europe/Prague") if i == 1 else LANGS[i % 3]
        login = PROBE_LOGIN if i == 1 else f"u{i}"
        yield {
            "id": i,
            "code": f"bn{i:07d}",
            "number": str(1_000_000 + i),
            "login": login,
            "name": f"Customer {i}",
            "email": f"{login}@bench.example",
            "language": lang,
            "timezone": tz,
            "password_hash": pw_hash,
            "billing_name": f"Customer {i}",
            "billing_address": f"Street {i}, Town",
            "vat_id": "",
            "is_staff": i == 1,  # the probe also opens the staff search
        }


def _service(sid, domain, kind, owner, payer, expires_on, state="active"):
    return {
        "id": sid,
        "external_id": f"S-{sid}",
        "domain": domain,
        "kind": kind,
        "owner_id": owner,
        "payer_id": payer,
        "expires_on": expires_on,
        "state": state,
        "auto_renew": True,
    }


def _services(lay):
    for sid in range(1, lay.probe_services + 1):
        k = (sid - 1) // 5
        expires = lay.today + timedelta(days=40 + 9 * sid)
        yield _service(sid, f"probe{k}.cz", KINDS[sid % 4], 1, 1, expires)
    for sid in range(lay.probe_services + 1, lay.n + 1):
        m = sid - lay.probe_services - 1
        case = m // CASE_SIZE
        tld = TLDS[case % 4][0]
        state = {5: "expired", 17: "terminating"}.get(case % 33, "active")
        days = -10 if state == "expired" else (case * 37) % 700 - 20
        expires = lay.today + timedelta(days=days)
        domain = f"case{case}.{tld}"
        yield _service(sid, domain, KINDS[m % 4], lay.owner(case), lay.payer(case), expires, state)


def _payment_requests(lay):
    pr_id = 0
    for svc in _services(lay):
        sid = svc["id"]
        if sid % 5:
            continue
        pr_id += 1
        issued = svc["expires_on"] - timedelta(days=30)
        unpaid = sid % 10 == 0 if sid <= lay.probe_services else (sid // 5) % 4 == 0
        yield {
            "id": pr_id,
            "external_id": f"PR-{pr_id}",
            "service_id": sid,
            "payer_id": svc["payer_id"],
            "issued_on": issued,
            "due_on": issued + timedelta(days=10),
            "amount": Decimal("199.00") + (sid % 7) * 100,
            "currency": TLDS[sid % 4][1],
            "paid_on": None if unpaid else issued + timedelta(days=3),
        }


class Requests:
    """Rows of transfer requests, their items and parties."""

    def __init__(self):
        self.requests, self.items, self.parties = [], [], []
        self.next_item = self.next_party = 1

    def add(self, rid, *, state, direction, src, dst, services, created, acted=(), change="both"):
        """One request of ``services`` [(id, owner, payer)] from ``src`` to ``dst``.

        ``acted``: the parties (src/dst account ids) that confirmed; decline comes from dst.
        """
        ended = state not in ("awaiting", "confirmed")
        expires = created + timedelta(days=14)
        ended_at = (
            (expires if state == "expired" else created + timedelta(days=2)) if ended else None
        )
        self.requests.append(
            {
                "id": rid,
                "direction": direction,
                "change": change,
                "domain": services[0][3],
                "initiator_id": src if direction == "push" else dst,
                "from_account_id": src,
                "to_account_id": dst,
                "notify_email": None,
                "notify_language": "en",
                "state": state,
                "failure_reason": "A payment request was issued." if state == "failed" else None,
                "submit_key": None,
                "created_at": created,
                "expires_at": expires,
                "confirmed_at": created + timedelta(hours=1)
                if state in ("confirmed", "executed", "failed")
                else None,
                "ended_at": ended_at,
            }
        )
        for sid, owner, payer, _domain in services:
            self.items.append(
                {
                    "id": self.next_item,
                    "request_id": rid,
                    "service_id": sid,
                    "active": not ended,
                    "old_owner_id": owner,
                    "old_payer_id": payer,
                    "new_owner_id": dst,
                    "new_payer_id": dst if change == "both" else payer,
                }
            )
            self.next_item += 1
        roles = {
            src: "owner_from,payer_from" if change == "both" else "owner_from",
            dst: "owner_to,payer_to" if change == "both" else "owner_to",
        }
        for account_id, role in roles.items():
            confirmed = created + timedelta(minutes=5) if account_id in acted else None
            declined = ended_at if state == "declined" and account_id == dst else None
            self.parties.append(
                {
                    "id": self.next_party,
                    "request_id": rid,
                    "account_id": account_id,
                    "roles": role,
                    "must_confirm": True,
                    "confirmed_at": confirmed,
                    "declined_at": declined,
                    "link_sent_at": created,
                    "reminded_at": None,
                }
            )
            self.next_party += 1


def _case_services(lay, case):
    domain = f"case{case}.{TLDS[case % 4][0]}"
    return [(sid, lay.owner(case), lay.payer(case), domain) for sid in lay.case_service_ids(case)]


def _acted(state, src, dst, initiator):
    if state in ("executed", "failed", "confirmed"):
        return (src, dst)
    if state in ("awaiting", "declined", "expired", "cancelled"):
        return (initiator,)
    return ()


def _probe_requests(reqs, lay):
    """The probe's requests: open pushes and pulls, then ended ones; returns (open, others)."""
    q, now = lay.probe_requests, lay.now
    probe_cases = max(lay.probe_services // 5, 1)
    n_open_push = min(q // 5, probe_cases)
    n_open_pull = min(q // 5, max(lay.cases - lay.bulk_requests, 0))
    for k in range(q):
        rid = k + 1
        created = now - timedelta(hours=k + 1)
        if k < n_open_push:  # open push of a probe business case; half not yet confirmed
            ids = lay.probe_case_ids(k)[:3]
            services = [(sid, 1, 1, f"probe{k}.cz") for sid in ids]
            dst = 2 + k % (lay.accounts - 1)
            acted = (1,) if k % 2 == 0 else ()
            reqs.add(
                rid,
                state="awaiting",
                direction="push",
                src=1,
                dst=dst,
                services=services,
                created=created,
                acted=acted,
            )
            continue
        if k < n_open_push + n_open_pull:  # open pull into the probe account
            case = lay.bulk_requests + (k - n_open_push)
            services = _case_services(lay, case)
            reqs.add(
                rid,
                state="awaiting",
                direction="pull",
                src=lay.owner(case),
                dst=1,
                services=services,
                created=created,
                acted=(1,),
            )
            continue
        state = ENDED[k % 4]
        created = now - timedelta(days=20 + k)
        if k % 2 and lay.cases:
            case = k % lay.cases
            src, dst, services = lay.owner(case), 1, _case_services(lay, case)
            direction = "pull"
        else:
            kk = k % probe_cases
            services = [(sid, 1, 1, f"probe{kk}.cz") for sid in lay.probe_case_ids(kk)[:2]]
            src, dst, direction = 1, 2 + k % (lay.accounts - 1), "push"
        initiator = src if direction == "push" else dst
        reqs.add(
            rid,
            state=state,
            direction=direction,
            src=src,
            dst=dst,
            services=services,
            created=created,
            acted=_acted(state, src, dst, initiator),
        )


def _bulk_requests(reqs, lay, first_id):
    now = lay.now
    for j in range(lay.bulk_requests):
        state = STATES[j % len(STATES)]
        services = _case_services(lay, j)[: 1 + j % 3]
        src = lay.owner(j)
        dst = lay.other(src)
        direction = "push" if j % 2 == 0 else "pull"
        if state == "awaiting":
            created = now - timedelta(hours=j % 48)
        else:
            created = now - timedelta(days=30 + j % 365, minutes=j % 1440)
        initiator = src if direction == "push" else dst
        reqs.add(
            first_id + j,
            state=state,
            direction=direction,
            src=src,
            dst=dst,
            services=services,
            created=created,
            acted=_acted(state, src, dst, initiator),
            change="owner" if j % 10 == 7 else "both",
        )
        if len(reqs.requests) >= BATCH:
            yield


def generate(url, n_services, fresh=True):
    """Build the data set for ``n_services`` at ``url``; returns counts, timings and the probe."""
    started = time.perf_counter()
    if fresh:
        fresh_schema(url)
    schema_s = time.perf_counter() - started
    now = datetime.now(UTC).replace(microsecond=0)
    lay = Layout(n_services, date.today(), now)
    app = bench_app(url)
    with app.app_context():
        pw_hash = passwords.hash_password(PASSWORD)
    counts = {}
    with app.app_context(), db.engine.begin() as conn:
        counts["accounts"] = bulk_insert(conn, Account.__table__, _accounts(lay, pw_hash))
        counts["services"] = bulk_insert(conn, Service.__table__, _services(lay))
        counts["payment_requests"] = bulk_insert(
            conn, PaymentRequest.__table__, _payment_requests(lay)
        )
        reqs = Requests()
        _probe_requests(reqs, lay)
        counts.update(_flush_requests(conn, reqs, {}))
        for _ in _bulk_requests(reqs, lay, lay.probe_requests + 1):
            _flush_requests(conn, reqs, counts)
        _flush_requests(conn, reqs, counts)
    with app.app_context():
        finish(db.engine)
        db.engine.dispose()
    elapsed = time.perf_counter() - started
    return {
        "url": url,
        "counts": counts,
        "seconds": round(elapsed, 2),
        "schema_seconds": round(schema_s, 2),
        "rows_per_second": round(sum(counts.values()) / max(elapsed - schema_s, 1e-9)),
        "probe": probe_info(lay),
    }


def _flush_requests(conn, reqs, counts):
    for key, table, rows in (
        ("transfer_requests", TransferRequest.__table__, reqs.requests),
        ("transfer_items", TransferItem.__table__, reqs.items),
        ("transfer_parties", TransferParty.__table__, reqs.parties),
    ):
        counts[key] = counts.get(key, 0) + bulk_insert(conn, table, rows)
        rows.clear()
    return counts


def finish(engine):
    """After a bulk load: move PostgreSQL sequences past the explicit ids; refresh statistics.

    PostgreSQL gets ``VACUUM (ANALYZE)``: after a million inserted rows its autovacuum would
    otherwise start within the minute, in the middle of the page measurements on the large
    data set, and the first reads of the new rows would write their hint bits (both seen as
    large-set pages slower than small-set pages by up to 1.4x).
    """
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in (Account, Service, PaymentRequest, TransferRequest):
                _reset_sequence(conn, table.__tablename__)
            for table in ("transfer_items", "transfer_parties"):
                _reset_sequence(conn, table)
    with engine.connect() as conn:
        command = "VACUUM (ANALYZE)" if engine.dialect.name == "postgresql" else "ANALYZE"
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(command))


def _reset_sequence(conn, table):
    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )
    )


def probe_info(lay):
    """What the page measurements need: the probe's log-in and a request of it to open."""
    return {
        "account_id": 1,
        "login": PROBE_LOGIN,
        "password": PASSWORD,
        "services": lay.probe_services,
        "requests": lay.probe_requests,
        "detail_request_id": 2 if lay.probe_requests > 1 else 1,
    }


def request_domain(app, request_id):
    """The domain of a request (what support types into the staff search)."""
    with app.app_context():
        domain = db.session.scalar(select(TransferRequest.domain).filter_by(id=request_id))
        db.session.remove()
    return domain


def open_probe_parties(app, account_id=1):
    """(request id, party id) of the probe's open requests it has not answered yet."""
    with app.app_context():
        query = (
            select(TransferParty.request_id, TransferParty.id)
            .join(TransferRequest, TransferRequest.id == TransferParty.request_id)
            .where(
                TransferParty.account_id == account_id,
                TransferParty.confirmed_at.is_(None),
                TransferParty.declined_at.is_(None),
                TransferRequest.state == "awaiting",
            )
            .order_by(TransferParty.request_id)
        )
        return [tuple(row) for row in db.session.execute(query)]


def confirmation_tokens(app, pairs):
    """Signed confirmation tokens (the real helper) for (request id, party id) pairs."""
    from cession_app.transfers import operations

    with app.app_context():
        found = []
        for request_id, party_id in pairs:
            request = db.session.get(TransferRequest, request_id)
            party = db.session.get(TransferParty, party_id)
            found.append((request_id, operations.confirm_token(request, party)))
        db.session.remove()
        return found


def add_requests(app, n, state, tag):
    """Append ``n`` fresh two-service push requests in ``state`` (confirmed: both parties
    confirmed, ready to execute; awaiting: only the receiving party still has to confirm).
    Returns the new request ids."""
    with app.app_context(), db.engine.begin() as conn:

        def top(model):
            return conn.scalar(select(func.coalesce(func.max(model.id), 0)))

        n_accounts = conn.scalar(select(func.count(Account.id)))
        sid, rid = top(Service) + 1, top(TransferRequest) + 1
        reqs = Requests()
        reqs.next_item, reqs.next_party = top(TransferItem) + 1, top(TransferParty) + 1
        services, now, ids = [], datetime.now(UTC), []
        for k in range(n):
            src = 2 + (k * 13) % (n_accounts - 1)
            dst = 2 + (src - 2 + 5) % (n_accounts - 1)
            domain = f"{tag}{k}.cz"
            case = []
            for kind in ("webhosting", "domain"):
                expires = date.today() + timedelta(days=200)
                services.append(_service(sid, domain, kind, src, src, expires))
                case.append((sid, src, src, domain))
                sid += 1
            acted = (src, dst) if state == "confirmed" else (src,)
            reqs.add(
                rid,
                state=state,
                direction="push",
                src=src,
                dst=dst,
                services=case,
                created=now - timedelta(minutes=10),
                acted=acted,
            )
            ids.append(rid)
            rid += 1
        bulk_insert(conn, Service.__table__, services)
        _flush_requests(conn, reqs, {})
    with app.app_context():
        finish(db.engine)
    return ids
