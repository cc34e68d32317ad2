"""Page checkers as pytest fixtures: the Nu HTML Checker (npm ``vnu-jar``, needs Java) and
axe-core (npm ``axe-core``), installed by ``make checkers`` (``npm ci``).

Without them the tests that use these fixtures are skipped, except under ``CI=true``,
where a missing checker fails the run. axe-core is put into the page by ``page.evaluate``
of the file's text: the app's Content-Security-Policy forbids injected script tags.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Rules of axe's WCAG 2.x A and AA sets, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _missing(what):
    if UNDER_CI:
        pytest.fail(f"CI=true but {what} is missing (make checkers; .ci/run installs it)")
    pytest.skip(f"{what} is missing: run `make checkers`")


class Vnu:
    """Collects HTML documents; ``errors()`` checks them all in one run of the checker."""

    def __init__(self, java, workdir):
        self.java, self.workdir, self.documents = java, workdir, {}

    def add(self, name, html):
        """Keep a page's HTML, under a name that says which page it is."""
        path = self.workdir / f"page-{len(self.documents):03d}.html"
        path.write_text(html, encoding="utf-8")
        self.documents[str(path)] = name

    def errors(self):
        """Every error (and warning) of every document, as "name: line: message"."""
        if not self.documents:
            return []
        command = [self.java, "-jar", str(VNU_JAR), "--format", "json", "--also-check-svg"]
        done = subprocess.run(
            [*command, *self.documents], capture_output=True, text=True, timeout=300
        )
        found = []
        for message in json.loads(done.stderr or "{}").get("messages", []):
            if message["type"] == "info" and message.get("subType") != "warning":
                continue  # notes such as "the first occurrence was here"
            if message["message"].startswith("This document appears to be written in"):
                continue  # a guess from the text: wrong for the pseudo-locale and the API's
                # reference (paths and field names), which the walk renders
            name = self.documents.get(message.get("url", "").removeprefix("file:"), "?")
            where = message.get("lastLine", "?")
            found.append(f"{name}: line {where}: {message['type']}: {message['message']}")
        return found


@pytest.fixture
def vnu(tmp_path):
    """The Nu HTML Checker over the pages a test adds: ``vnu.add(name, html)``, then
    ``vnu.errors()``."""
    java = shutil.which("java")
    if java is None:
        _missing("java (apt package default-jre-headless)")
    if not VNU_JAR.is_file():
        _missing(f"{VNU_JAR.relative_to(ROOT)}")
    return Vnu(java, tmp_path)


@pytest.fixture(scope="session")
def axe_source():
    """The text of axe.min.js."""
    if not AXE_JS.is_file():
        _missing(f"{AXE_JS.relative_to(ROOT)}")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source):
    """``axe(page)``: the axe-core violations on the page as it is now, as texts."""

    def run(page, name=""):
        page.evaluate(axe_source)
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        return [
            f"{name or page.url}: {v['id']} ({v['impact']}): {v['help']}: "
            + "; ".join(node["target"][0] for node in v["nodes"][:5])
            for v in result["violations"]
        ]

    return run
