"""Pooled database connections: a connection the server ended is replaced unseen."""

import time

import pytest
from sqlalchemy import create_engine, text

from cession_app.extensions import db


def _terminate_other_backends(url):
    """End every other connection to this database, as a server restart would."""
    killer = create_engine(url, poolclass=None)
    with killer.connect() as conn:
        pids = conn.scalars(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(200):  # the backends exit a moment after the signal
            alive = conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": pids},
            )
            if not alive:
                break
            time.sleep(0.01)
    killer.dispose()
    return pids


def test_a_page_works_after_the_server_ended_the_pooled_connection(
    app, client, make, log_in, backend
):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: the server ends a connection")
    me = make.account("novak")
    make.service(me, domain="novak.cz")
    log_in("novak")
    assert client.get("/services/").status_code == 200
    pooled = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.remove()  # the connection goes back to the pool

    ended = _terminate_other_backends(app.config["SQLALCHEMY_DATABASE_URI"])

    assert pooled in ended
    page = client.get("/services/")
    assert page.status_code == 200
    assert "novak.cz" in page.get_data(as_text=True)
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != pooled


def test_no_round_trip_is_spent_checking_a_pooled_connection(app, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    assert not db.engine.pool._pre_ping


def _postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")


def test_begin_travels_with_the_first_statement(app, backend):
    _postgresql_only(backend)
    with db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver.autocommit  # the driver starts no transaction of its own
        assert driver.info.transaction_status.name == "IDLE"
        assert conn.scalar(text("SELECT :x"), {"x": 1}) == 1
        # one transaction, begun on the server with that statement
        assert driver.info.transaction_status.name == "INTRANS"
        first = conn.scalar(text("SELECT txid_current() + :n"), {"n": 0})
        assert conn.scalar(text("SELECT txid_current() + :n"), {"n": 0}) == first
        conn.rollback()
        assert driver.info.transaction_status.name == "IDLE"


def test_a_transaction_is_atomic_and_isolated_as_before(app, backend):
    _postgresql_only(backend)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS h16r_t (n int)"))
        conn.execute(text("DELETE FROM h16r_t"))
    try:
        with db.engine.connect() as writer, db.engine.connect() as reader:
            writer.execute(text("INSERT INTO h16r_t VALUES (:n)"), {"n": 1})
            # not seen by another connection before the commit, and gone with a rollback
            assert reader.scalar(text("SELECT count(*) FROM h16r_t WHERE n > :n"), {"n": 0}) == 0
            writer.rollback()
            writer.execute(text("INSERT INTO h16r_t VALUES (:n)"), {"n": 2})
            writer.execute(text("INSERT INTO h16r_t VALUES (:n)"), {"n": 3})
            writer.commit()
            reader.rollback()
            rows = reader.scalars(text("SELECT n FROM h16r_t WHERE n > :n ORDER BY n"), {"n": 0})
            assert rows.all() == [2, 3]
            isolation = reader.scalar(
                text("SELECT current_setting(:s)"), {"s": "transaction_isolation"}
            )
            assert isolation == "read committed"
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE h16r_t"))


def test_a_failed_first_statement_is_rolled_back_and_the_connection_reused(app, backend):
    _postgresql_only(backend)
    from sqlalchemy.exc import DataError

    with db.engine.connect() as conn:
        with pytest.raises(DataError):
            conn.execute(text("SELECT 1 / :zero"), {"zero": 0})
        conn.rollback()
        assert conn.scalar(text("SELECT :x"), {"x": 2}) == 2


def test_autocommit_connections_get_no_transaction(app, backend):
    _postgresql_only(backend)
    with db.engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        auto.execute(text("SELECT :x"), {"x": 1})
        driver = auto.connection.driver_connection
        assert driver.info.transaction_status.name == "IDLE"
    with db.engine.connect() as conn:  # back to ours
        conn.execute(text("SELECT :x"), {"x": 1})
        driver = conn.connection.driver_connection
        assert driver.info.transaction_status.name == "INTRANS"
        conn.rollback()


def test_prepared_statements_outlive_a_transaction(app, backend):
    _postgresql_only(backend)
    query = text("SELECT count(*) FROM accounts WHERE id = :id")
    for _ in range(8):  # psycopg prepares a statement at its fifth run
        with db.engine.connect() as conn:
            conn.execute(query, {"id": 1})
    with db.engine.connect() as conn:
        prepared = conn.scalar(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :s"),
            {"s": "%FROM accounts WHERE id = $1%"},
        )
    assert prepared == 1


def test_a_result_is_described_as_psycopg_describes_it(app, backend):
    _postgresql_only(backend)
    from psycopg import Column

    with db.engine.connect() as conn:
        result = conn.execute(
            text("SELECT id, login, outgoing_unlock_at AS made FROM accounts WHERE id > :n"),
            {"n": 0},
        )
        cursor = result.cursor
        plain = [(c.name, c.type_code) for c in map(Column, [cursor] * 3, range(3))]
        assert [(d[0], d[1]) for d in cursor.description] == plain
        assert [d[0] for d in cursor.description] == ["id", "login", "made"]
        assert list(result.keys()) == ["id", "login", "made"]
        with conn.connection.driver_connection.cursor() as raw:
            raw.execute("DO $$ BEGIN END $$")  # no rows
            assert raw.description is None


def test_a_lock_taken_by_the_first_statement_is_held_until_the_end(app, backend):
    _postgresql_only(backend)
    from sqlalchemy.exc import OperationalError

    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS h16r_l (n int)"))
        conn.execute(text("DELETE FROM h16r_l"))
        conn.execute(text("INSERT INTO h16r_l VALUES (1)"))
    lock = text("SELECT n FROM h16r_l WHERE n = :n FOR UPDATE NOWAIT")
    try:
        with db.engine.connect() as holder, db.engine.connect() as other:
            assert holder.scalar(lock, {"n": 1}) == 1  # the transaction's first statement
            with pytest.raises(OperationalError, match="could not obtain lock"):
                other.execute(lock, {"n": 1})
            other.rollback()
            holder.rollback()
            assert other.scalar(lock, {"n": 1}) == 1
            other.rollback()
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE h16r_l"))


def test_plain_selects_open_no_transaction_until_the_first_write(app, make, backend):
    _postgresql_only(backend)
    from sqlalchemy import select, update

    from cession_app.models import Account

    me = make.account("novak")
    name = select(Account.name).where(Account.id == me.id)
    with db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert conn.scalar(name) == "Novak"
        # a page that only reads: nothing begun on the server, so no ROLLBACK to send
        assert driver.info.transaction_status.name == "IDLE"
        conn.execute(update(Account).where(Account.id == me.id).values(name="Changed"))
        assert driver.info.transaction_status.name == "INTRANS"
        # from the first write on, every statement is in the transaction: it sees the
        # change that another connection does not see yet
        assert conn.scalar(name) == "Changed"
        with db.engine.connect() as other:
            assert other.scalar(name) == "Novak"
        conn.rollback()
        assert driver.info.transaction_status.name == "IDLE"
        assert conn.scalar(name) == "Novak"


def test_a_select_for_update_begins_the_transaction_and_holds_its_lock(app, make, backend):
    _postgresql_only(backend)
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from cession_app.models import Account

    me = make.account("novak")
    mine = select(Account.id).where(Account.id == me.id)
    with db.engine.connect() as holder, db.engine.connect() as other:
        assert holder.scalar(mine.with_for_update()) == me.id
        assert holder.connection.driver_connection.info.transaction_status.name == "INTRANS"
        with pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(mine.with_for_update(nowait=True))
        other.rollback()
        holder.rollback()
        assert other.scalar(mine.with_for_update(nowait=True)) == me.id
        other.rollback()


def test_under_another_default_level_a_plain_select_begins_the_transaction(app, backend):
    """REPEATABLE READ takes one snapshot for the transaction at its first statement: a
    SELECT before the first write must be in it."""
    _postgresql_only(backend)
    from sqlalchemy import create_engine, select

    from cession_app import pgdriver
    from cession_app.models import Account

    engine = create_engine(
        app.config["SQLALCHEMY_DATABASE_URI"],
        connect_args={"options": "-c default_transaction_isolation=repeatable\\ read"},
    )
    pgdriver.install(engine)
    try:
        with engine.connect() as conn:
            conn.scalar(select(Account.id).limit(1))
            driver = conn.connection.driver_connection
            assert driver.info.transaction_status.name == "INTRANS"
            level = conn.scalar(text("SELECT current_setting(:s)"), {"s": "transaction_isolation"})
            assert level == "repeatable read"
            conn.rollback()
    finally:
        engine.dispose()


def test_a_list_of_ids_is_one_parameter_on_postgresql(app, make, backend):
    """``one_of``: the same rows as IN; on PostgreSQL one array parameter, so the statement
    is the same SQL for any number of ids (psycopg prepares it once)."""
    from sqlalchemy import event

    from cession_app.models.accounts import accounts_by_id

    accounts = [make.account(name) for name in ("novak", "kowalska", "mueller")]
    ids = [a.id for a in accounts]
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert accounts_by_id([]) == {}
        assert {i: a.login for i, a in accounts_by_id(ids[:1]).items()} == {ids[0]: "novak"}
        found = accounts_by_id({*ids, 999999})  # any iterable; an unknown id finds nothing
        assert {i: a.login for i, a in found.items()} == dict(
            zip(ids, ("novak", "kowalska", "mueller"), strict=True)
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert len(seen) == 2  # no statement for no ids
    if backend == "postgresql":
        assert seen[0][0] == seen[1][0] and "ANY" in seen[0][0]
        assert sorted(seen[1][1]["ids"]) == sorted([*ids, 999999])
    else:
        assert seen[0][0] != seen[1][0]  # IN (?) and IN (?, ?, ?, ?)
