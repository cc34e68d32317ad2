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
