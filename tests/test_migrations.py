"""The Alembic migrations build exactly the schema the models describe, and run both ways."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from cession_app.extensions import db


def _wipe():
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_migrations_match_the_models_and_downgrade_cleanly(app):
    _wipe()
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    flask_migrate.downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    flask_migrate.upgrade()
    assert "transfer_requests" in inspect(db.engine).get_table_names()


def test_a_service_is_locked_by_a_partial_unique_index_on_both_databases(app):
    """The models' schema (``create_all``) has the partial index on either database, though
    its PostgreSQL predicate is added with the dialect, not at import."""
    name = "uq_transfer_items_active_service"
    if db.engine.dialect.name == "postgresql":
        query = text("SELECT indexdef FROM pg_indexes WHERE indexname = :name")
    else:
        query = text("SELECT sql FROM sqlite_master WHERE name = :name")
    with db.engine.connect() as conn:
        ddl = conn.scalar(query, {"name": name})
    assert "UNIQUE" in ddl.upper() and "WHERE active" in ddl
