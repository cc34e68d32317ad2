"""A web worker imports only what pages need: the CLI's, the worker's and the mail
sender's modules wait until they are used (each costs every web worker memory)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Never needed to serve a page: migrations (CLI), sending mail (worker), QR codes, 2FA,
# the OpenAPI document, PDFs, OpenID Connect; e-mail validation only when an address is
# entered.
NOT_FOR_PAGES = (
    "alembic",
    "flask_migrate",
    "flask_mail",
    "smtplib",
    "email_validator",
    "segno",
    "pyotp",
    "apispec",
    "fpdf",
    "authlib",
)

PROBE = """
import json, sys
import wsgi
response = wsgi.app.test_client().get("/login")
assert response.status_code == 200, response.status_code
print(json.dumps(sorted(sys.modules)))
"""


def test_import_wsgi_and_a_page_leave_the_heavy_modules_out(app):
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": "test-secret",
        "MAIL_SERVER": "",
    }
    for name in ("FLASK_RUN_FROM_CLI", "FLASK_DEBUG"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    loaded = sorted(m for m in modules if m.split(".")[0] in NOT_FOR_PAGES)
    assert loaded == []
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert "psycopg" not in modules
        assert "sqlalchemy.dialects.postgresql" not in modules
    else:  # PostgreSQL: SQLite's dialect (0.6 MB) is not loaded either
        assert "sqlalchemy.dialects.sqlite" not in modules
