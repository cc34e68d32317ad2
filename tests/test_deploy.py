"""deploy/, Dockerfile and compose.yaml: checked for syntax and for what the README promises.

systemd, nginx and Docker do not run here: units are checked with ``systemd-analyze verify``
where it exists (only the missing installed executables may be reported), the rest parsed.
"""

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "deploy" / "systemd").glob("cession-*"))


def _unit(path):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


def test_units_run_the_app_and_the_worker_and_restart():
    web = _unit(ROOT / "deploy/systemd/cession-web.service")
    worker = _unit(ROOT / "deploy/systemd/cession-worker.service")
    assert (
        "gunicorn" in web["Service"]["ExecStart"]
        and "127.0.0.1:8000" in web["Service"]["ExecStart"]
    )
    assert worker["Service"]["ExecStart"].endswith("flask --app cession_app worker")
    for unit in (web, worker):
        assert unit["Service"]["Restart"] == "always" and unit["Service"]["User"] == "cession"
        assert unit["Install"]["WantedBy"] == "multi-user.target"
    timer = _unit(ROOT / "deploy/systemd/cession-backup.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "yes"
    assert (
        "pg_dump" in _unit(ROOT / "deploy/systemd/cession-backup.service")["Service"]["ExecStart"]
    )


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify():
    result = subprocess.run(
        ["systemd-analyze", "verify", *[str(p) for p in UNITS]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "is not executable: No such file or directory" not in line
    ]
    assert not complaints, complaints


def test_nginx_site_is_the_one_in_the_readme():
    site = (ROOT / "deploy/nginx/cession.conf").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```nginx\n", 1)[1].split("```", 1)[0]
    assert site.endswith(block)
    assert site.count("{") == site.count("}")
    for needed in ("proxy_set_header X-Forwarded-For", "X-Forwarded-Proto", "ssl_certificate"):
        assert needed in site


def test_compose_has_web_worker_postgresql_and_redis():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"web", "worker", "db", "redis"}
    assert services["worker"]["command"][-1] == "worker"
    assert services["web"]["environment"]["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert "db upgrade" in " ".join(services["web"]["command"])
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_dockerfile_installs_from_the_lock_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "--require-hashes" in dockerfile and "requirements.lock" in dockerfile
    assert re.search(r"^USER cession$", dockerfile, re.M)
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert re.search(r"^redis==", lock, re.M), "Redis rate limits need the redis package"


def _probe(app, code):
    """What ``code`` printed last (JSON), run by a fresh Python on the app's database."""
    import json
    import os
    import sys

    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "t"}
    env.update(MAIL_SERVER="")
    for name in ("FLASK_RUN_FROM_CLI", "FLASK_DEBUG"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_wsgi_app_keeps_its_start_up_objects_out_of_full_collections(app):
    """gunicorn's ``wsgi:app`` freezes what start-up made (``gc.freeze``): a page no longer
    waits for a full garbage collection over the app's ~150,000 lasting objects; objects
    made by pages are still collected."""
    frozen, status, collected = _probe(
        app,
        "import gc, json, wsgi\n"
        "frozen = gc.get_freeze_count()\n"
        "status = wsgi.app.test_client().get('/login').status_code\n"
        "class Cycle: pass\n"
        "a = Cycle(); a.me = a; del a\n"
        "print(json.dumps([frozen, status, gc.collect() > 0]))\n",
    )
    assert frozen > 50_000 and status == 200 and collected


def test_the_worker_keeps_its_start_up_objects_out_of_collections_but_not_a_single_pass(app):
    """``flask worker`` (a loop) freezes what start-up made, as the web workers do: the
    executor's batches no longer pay for collections over it. ``--once`` (cron, tests) does
    not: what it froze would never be collected."""
    once, loop = _probe(
        app,
        "import gc, json\n"
        "from cession_app import create_app, worker\n"
        "app = create_app()\n"
        "seen = []\n"
        "worker.run = lambda once=False, stop=None: seen.append(gc.get_freeze_count())\n"
        "for args in (['worker', '--once'], ['worker']):\n"
        "    result = app.test_cli_runner().invoke(args=args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "print(json.dumps(seen))\n",
    )
    assert once == 0 and loop > 50_000
