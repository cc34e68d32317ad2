"""Settings: defaults in one place, overridden from the environment (and ``.env``)."""

import os

LANGUAGES = ("en", "pl", "cs", "de")

# name -> (default, type). Every entry is documented in the README.
SETTINGS = {
    "SECRET_KEY": (None, str),
    "SECRET_KEY_FALLBACKS": ("", list),
    "DATABASE_URL": (None, str),
    "BASE_URL": ("http://127.0.0.1:5000", str),
    "MAIL_SERVER": ("", str),
    "MAIL_PORT": (25, int),
    "MAIL_USE_TLS": (False, bool),
    "MAIL_USE_SSL": (False, bool),
    "MAIL_USERNAME": (None, str),
    "MAIL_PASSWORD": (None, str),
    "MAIL_DEFAULT_SENDER": ("cession <noreply@localhost>", str),
    "DEFAULT_LOCALE": ("en", str),
    "DEFAULT_TIMEZONE": ("Europe/Prague", str),
    "TRANSFER_EXPIRY_DAYS": (14, int),
    "REMINDER_DAYS_BEFORE": (2, int),
    "BILLING_CLOSE_DAY": (0, int),
    "WORKER_INTERVAL": (0.5, float),
    "WORKER_BATCH": (200, int),
    "EXECUTOR_BATCH": (50, int),
    "EXECUTOR_SAVEPOINTS": (False, bool),
    "JINJA_CACHE_DIR": ("", str),
    "MAIL_RETRY_MAX_DELAY": (600, int),
    "MAIL_TIMEOUT": (30, float),
    "MAIL_CLAIM_TIMEOUT": (300, int),
    "MAIL_GIVE_UP_HOURS": (72, int),
    "SUPPORT_EMAIL": ("", str),
    "SUPPORT_PHONE": ("", str),
    "BRAND_NAME": ("", str),
    "BRAND_LOGO": ("brand/logo.svg", str),
    "BRAND_COLOR": ("#0b5cad", str),
    "BRAND_FOOTER": ("", str),
    "TERMS_URL": ("", str),
    "PRIVACY_URL": ("", str),
    "HOLDER_CHANGE_URL": ("", str),
    "HOLDER_CHANGE_LOCK_DAYS": (60, int),
    "BANK_ACCOUNT_HOLDER": ("", str),
    "BANK_IBAN": ("", str),
    "BANK_BIC": ("", str),
    "BANK_ACCOUNT_NUMBER": ("", str),
    "PAYMENT_REFERENCE": ("{digits}", str),
    "REQUIRE_APPROVAL": (False, bool),
    "TRANSFER_REQUESTS_PER_HOUR": (10, int),
    "TRANSFER_LOCK_DAYS_AFTER_MOVE": (0, int),
    "PAYMENT_HANDOVER": (False, bool),
    "LOGIN_RATE_LIMIT": ("10 per minute", str),
    "RESEND_RATE_LIMIT": ("3 per hour", str),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    # OWASP's argon2id option m=7 MiB, t=5, p=1, rated as strong as m=19 MiB, t=2: a third
    # of the memory per log-in for a web worker (see README, "Configuration").
    "PASSWORD_HASH_TIME_COST": (5, int),
    "PASSWORD_HASH_MEMORY_KIB": (7168, int),
    "PASSWORD_HASH_PARALLELISM": (1, int),
    "PASSWORD_RESET_MINUTES": (60, int),
    "PASSWORD_RESET_RATE_LIMIT": ("5 per 15 minutes", str),
    "PASSWORD_RESET_MAILS_PER_HOUR": (3, int),
    "INVITATION_DAYS": (7, int),
    "EMAIL_CHANGE_HOURS": (24, int),
    "EMAIL_UNDO_DAYS": (7, int),
    "SSO_SECRET": ("", str),
    "SSO_MAX_AGE": (60, int),
    "OIDC_ISSUER": ("", str),
    "OIDC_CLIENT_ID": ("", str),
    "OIDC_CLIENT_SECRET": ("", str),
    "OIDC_SCOPE": ("openid profile", str),
    "OIDC_CLAIM": ("customer_code", str),
    "OIDC_MATCH_FIELD": ("code", str),
    "OIDC_NAME": ("", str),
    "TWO_FACTOR_REQUIRED_FOR_STAFF": (True, bool),
    "TWO_FACTOR_ISSUER": ("cession", str),
    "TWO_FACTOR_REMEMBER_DAYS": (0, int),
    "LOGIN_FAILURES_ALLOWED": (5, int),
    "LOGIN_WAIT_SECONDS": (60, int),
    "LOGIN_WAIT_MAX_SECONDS": (900, int),
    "PAGE_SIZE": (20, int),
    "DEV_MAILBOX": (False, bool),
    "TRUSTED_PROXIES": (0, int),
    "MAX_CONTENT_LENGTH": (1024 * 1024, int),
    "MAX_FORM_PARTS": (1000, int),
    "API_RATE_LIMIT": ("600 per minute", str),
    "HEALTH_WORKER_MAX_AGE": (300, int),
    "WEBHOOK_TIMEOUT": (10.0, float),
    "WEBHOOK_RETRY_BASE": (30, int),
    "WEBHOOK_RETRY_MAX": (6 * 3600, int),
    "WEBHOOK_GIVE_UP_HOURS": (72, int),
    "WEBHOOK_CLAIM_TIMEOUT": (300, int),
}


def _convert(raw, kind):
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind is list:
        return [part for part in raw.split(",") if part]
    return kind(raw)


def from_environ(environ=None):
    """Return the settings, each from the environment when set there, else its default."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, (default, kind) in SETTINGS.items():
        raw = environ.get(name)
        values[name] = default if raw in (None, "") else _convert(raw, kind)
    if values["SECRET_KEY_FALLBACKS"] == "":
        values["SECRET_KEY_FALLBACKS"] = []
    return values
