"""Memory of one web worker, in-process: ``python -m bench.memory URL [N]``.

On a data set made by ``make bench`` (``sqlite:////abs/path/bench/out/bench-large.sqlite``,
or the PostgreSQL bench database) or ``bench.generate``, a fresh interpreter imports what a
gunicorn worker imports (gunicorn's worker, then ``bench.wsgi_bench``), logs in as the
probe through the real form (one argon2id hash), then requests each measured page N times.
It prints, as JSON, VmRSS and VmHWM (``/proc/self/status``, MB) after the import, the
log-in and each page, the number of modules, and the heavy modules that were imported.
Unlike times, these figures are the same on a busy machine.
"""

import json
import os
import re
import subprocess
import sys

from .load import ROOT, USER_AGENT

# Packages a web worker should not need to import (the CLI, the worker, mail, async).
HEAVY = (
    "asyncio",
    "alembic",
    "flask_migrate",
    "flask_mail",
    "smtplib",
    "email_validator",
    "click.testing",
    "limits.aio",
    "limits.storage.redis",
    "limits.storage.mongodb",
    "limits.storage.memcached",
    "fpdf",
    "segno",
    "pyotp",
    "apispec",
)


def status():
    """VmRSS and VmHWM of this process, in MB."""
    text = open("/proc/self/status").read()
    return {
        k: round(int(re.search(k + r":\s+(\d+) kB", text)[1]) / 1024, 1) for k in ("VmRSS", "VmHWM")
    }


def child(paths, n, login, password):
    """In the fresh interpreter: import like a worker, serve the pages, measure."""
    import gunicorn.workers.sync  # noqa: F401  (the master's imports are in every worker)
    from werkzeug.test import Client

    from bench.wsgi_bench import app

    found = {"import": {**status(), "modules": len(sys.modules)}}
    client = Client(app)
    headers = {"User-Agent": USER_AGENT}
    body = client.get("/login", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    form = {"login": login, "password": password, "csrf_token": token[1] if token else ""}
    assert client.post("/login", data=form, headers=headers).status_code == 302
    found["log-in"] = status()
    anonymous = Client(app)
    for path, logged_in in paths:
        for _ in range(n):
            response = (client if logged_in else anonymous).get(path, headers=headers)
            assert response.status_code == 200, path
        found[path.split("?")[0][:30]] = status()
    found["pages"] = {**status(), "modules": len(sys.modules)}
    found["heavy"] = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY or m in HEAVY)
    return found


def measure(url, data, n=20):
    """The figures of :func:`child`, run in a fresh interpreter on ``url``."""
    from .__main__ import page_paths
    from .generate import SECRET_KEY

    paths = [(path, logged_in) for _key, path, logged_in in page_paths(url, data) if path]
    probe = data["probe"]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "MAIL_SERVER": "",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "TWO_FACTOR_REQUIRED_FOR_STAFF": "false",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("FLASK_DEBUG", None)
    args = json.dumps([paths, n, probe["login"], probe["password"]])
    code = "import json, sys; from bench.memory import child; "
    code += f"print(json.dumps(child(*json.loads({args!r}))))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    """Print the figures for the data set at URL (after ``make bench``, or ``generate``)."""
    from .generate import PASSWORD, PROBE_LOGIN
    from .profile_pages import _probe

    argv = sys.argv[1:] if argv is None else argv
    url, n = argv[0], int(argv[1]) if len(argv) > 1 else 20
    probe = {**_probe(url), "login": PROBE_LOGIN, "password": PASSWORD}
    print(json.dumps(measure(url, {"probe": probe}, n), indent=1))


if __name__ == "__main__":
    main()
