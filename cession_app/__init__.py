"""cession: move hosting services between customer accounts."""

import logging
import os
import select
from inspect import CO_COROUTINE
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask
from sqlalchemy import event, exc, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from . import config as config_module
from .extensions import csrf, db, limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent


class CessionFlask(Flask):
    """Flask, with its check for ``async def`` views and hooks made cheap: it runs for every
    hook of every request (about 20 a page, ``inspect.iscoroutinefunction`` each)."""

    def ensure_sync(self, func):
        """``func`` itself when its code is not a coroutine's; else Flask's answer."""
        code = getattr(func, "__code__", None)
        if code is not None and not code.co_flags & CO_COROUTINE:
            return func
        return super().ensure_sync(func)


def web_app():
    """The app as a web worker serves it (``wsgi.py``): ``create_app()``, then
    ``freeze_startup()``."""
    app = create_app()
    freeze_startup()
    return app


def freeze_startup():
    """Take what start-up made (modules, the app, its settings, SQLAlchemy's metadata: some
    150,000 objects that live as long as the process) out of the garbage collector's passes
    (``gc.freeze``). In a web worker a full pass over them took about 90 ms, once every
    thousand pages or so: a page that ran into one waited for it. In the worker, the
    collections during the executor's batches took half as long without them (6% of a
    batch, then 3%). Objects made later are collected as before. For long-running
    processes only (web and worker): what is frozen is never collected."""
    import gc

    gc.collect()
    gc.freeze()


def create_app(config=None):
    """Build the app: settings from the environment, then ``config`` on top (tests)."""
    load_dotenv(ROOT / ".env")
    app = CessionFlask(__name__, static_folder=str(ROOT / "static"), instance_relative_config=True)
    app.config.update(config_module.from_environ())
    app.config.update(config or {})
    _finish_config(app)
    from . import assets, brand, errors, i18n, labels, security, session_cookie, templating, urls

    security.check_config(app.config)
    security.init_url_map(app)
    _register_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    templating.init_app(app)
    session_cookie.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    urls.init_app(app)
    brand.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    return app


def _finish_config(app):
    """Derive the settings the extensions need; refuse to start without a secret key."""
    cfg = app.config
    if not cfg.get("SECRET_KEY"):
        if not (cfg.get("DEBUG") or cfg.get("TESTING") or os.environ.get("FLASK_DEBUG") == "1"):
            raise RuntimeError("SECRET_KEY is not set: refusing to start (see README, Settings).")
        cfg["SECRET_KEY"] = "dev-only-insecure-key"
    if not cfg.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        cfg["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'cession.sqlite'}"
    cfg.setdefault("SQLALCHEMY_DATABASE_URI", cfg["DATABASE_URL"])
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        cfg["SQLALCHEMY_DATABASE_URI"] = cfg["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    cfg["BASE_URL"] = cfg["BASE_URL"].rstrip("/")
    secure = cfg["BASE_URL"].startswith("https://")
    cfg.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        BABEL_DEFAULT_LOCALE=cfg["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE="UTC",
        MAIL_SUPPRESS_SEND=False,
        WTF_CSRF_TIME_LIMIT=None,
    )
    # Tests may add directories (";"-separated), e.g. a pseudo-locale catalog.
    cfg.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    # No pool_pre_ping: it costs a round trip per request; a pooled connection the server
    # closed is found at checkout without one (_drop_closed_connection).
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    if cfg.get("TESTING"):
        logging.getLogger("cession").setLevel(logging.INFO)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: foreign keys on, WAL journal, wait for the writer instead of failing."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@event.listens_for(Pool, "checkout")
def _drop_closed_connection(dbapi_connection, connection_record, connection_proxy):
    """PostgreSQL: a pooled connection the server has closed is replaced, without a round trip.

    An idle connection has nothing to read; when the server ends it (restart,
    ``pg_terminate_backend``, idle timeout) it sends an error and closes the socket, so
    the socket turns readable. The pool then connects anew (it retries a checkout that
    raises DisconnectionError).
    """
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError("the PostgreSQL connection is closed")
    poller = select.poll()  # not select.select: it fails on descriptors above 1023
    poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("the PostgreSQL server ended the connection")


MIGRATIONS = Path(__file__).parent / "migrations"


def init_migrations(app):
    """Flask-Migrate (Alembic), for the ``flask`` command, tests and tools.

    Web workers do not load it: Alembic would add about 11 MB to each of them.
    """
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(MIGRATIONS))


def _register_extensions(app):
    db.init_app(app)
    from .models.transfers import add_dialect_options

    backend = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    add_dialect_options(backend)  # the models as migrated (autogenerate)
    if backend == "postgresql":
        from . import pgdriver

        with app.app_context():
            for engine in db.engines.values():
                pgdriver.install(engine)  # BEGIN sent with the first statement
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true" or app.config.get("TESTING"):
        init_migrations(app)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    _skip_idle_limit_check(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    from .accounts import oidc

    oidc.init_app(app)


def _skip_idle_limit_check(app):
    """Flask-Limiter checks every request for limits of the whole app, of a blueprint or met
    earlier on the endpoint (a page of 7,000 Python calls spent 170 on it); our limits are on
    views, checked by their decorators. The check runs only while such a limit exists."""
    from .security import limits_everywhere

    check = limiter._check_request_limit

    def check_request_limit():
        return check() if limits_everywhere() else None

    funcs = app.before_request_funcs[None]
    if check in funcs:  # not when limits are off (RATELIMIT_ENABLED)
        funcs[funcs.index(check)] = check_request_limit


def _register_blueprints(app):
    from .accounts import bp as accounts_bp
    from .api import bp as api_bp
    from .billing import bp as billing_bp
    from .dev import bp as dev_bp
    from .holder import bp as holder_bp
    from .protection import bp as protection_bp
    from .services import bp as services_bp
    from .staff import bp as staff_bp
    from .transfers import bp as transfers_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(services_bp)
    app.register_blueprint(transfers_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(protection_bp)
    app.register_blueprint(holder_bp)
    app.register_blueprint(api_bp)
    from .health import bp as health_bp

    app.register_blueprint(health_bp)
    csrf.exempt(api_bp)  # API keys, not cookies: no CSRF (sessions never authenticate it)
    if app.config["DEV_MAILBOX"]:  # only `make run` turns it on (see security.check_config)
        app.register_blueprint(dev_bp)


def _register_cli(app):
    from . import cli

    cli.init_app(app)
