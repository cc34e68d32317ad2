"""Flask extensions, created unbound and initialised in ``create_app``."""

import functools

from flask import session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import ARRAY, MetaData, any_, bindparam
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints."""

    metadata = MetaData(naming_convention=NAMING)


class SessionLoginManager(LoginManager):
    """Flask-Login's, with its "strong" protection checked only for a session that has an
    account in it.

    Flask-Login took any non-empty session without its identifier (a visitor's, which holds
    the CSRF token of the log-in form) for a stolen one: it emptied it, so the session cookie
    was signed and sent again and the remember cookie (never used here) deleted, on every
    page a visitor opened.
    """

    def _session_protection_failed(self):
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


db = SQLAlchemy(model_class=Base)
babel = Babel()
csrf = CSRFProtect()
login_manager = SessionLoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def dialect_name():
    """The database's SQLAlchemy dialect: "sqlite" or "postgresql" (what differs between
    them, such as locks and bulk writes, asks here)."""
    return db.engine.dialect.name


def one_of(column, name):
    """``column`` is one of the values of the list given as parameter ``name`` (a list).

    PostgreSQL: ``column = ANY(:name)``, one array parameter, so the statement's SQL is the
    same for any number of values (psycopg prepares it once). Elsewhere ``IN``, expanded
    into one placeholder a value at each execution (about ten Python calls a value, and
    on PostgreSQL new SQL for each new count). Depends on the dialect: a statement that
    uses it is built in an application context (see ``built_once``)."""
    if dialect_name() == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def built_once(build):
    """The statement ``build()`` returns, built at its first use and kept per database
    dialect (for statements that use ``one_of``); call the result to get it."""
    kept = {}

    @functools.wraps(build)
    def statement():
        name = dialect_name()
        found = kept.get(name)
        if found is None:
            found = kept[name] = build()
        return found

    return statement
