"""Static files and templates, made cheap to serve: versioned URLs cached for a year, and
compiled templates kept on disk and never checked for changes in production.

``url_for('static', filename=...)`` adds ``?v=<hash of the file's content>``, so a changed
file gets a new URL; a request for a versioned URL is answered with a year's
``Cache-Control: public, max-age=31536000, immutable``, and browsers ask no more.
"""

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from flask import request
from jinja2 import FileSystemBytecodeCache

from .templating import CODE_GENERATOR

YEAR = 365 * 24 * 3600


@lru_cache(maxsize=256)
def _digest(path, mtime_ns):
    """The first 12 hex digits of a file's SHA-256 (kept until the file changes)."""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


def version(folder, filename):
    """The version of ``folder/filename`` for its URL, or None when there is no such file."""
    path = os.path.join(folder, filename)
    try:
        return _digest(path, os.stat(path).st_mtime_ns)
    except OSError:
        return None


def init_app(app):
    """Versioned static URLs, their cache header, and the templates' bytecode cache."""

    @app.url_defaults
    def _static_version(endpoint, values):
        if endpoint == "static" and "v" not in values and "filename" in values:
            found = version(app.static_folder, values["filename"])
            if found:
                values["v"] = found

    @app.after_request
    def _cache_versioned(response):
        if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response

    if not (app.debug or app.testing):
        # Templates are read once per process; their compiled form is shared on disk, so
        # a new worker does not compile them again.
        app.jinja_env.auto_reload = False
        folder = app.config.get("JINJA_CACHE_DIR") or os.path.join(
            tempfile.gettempdir(), f"cession-jinja-{os.getuid()}"
        )
        try:
            Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:  # a read-only system: templates are compiled per worker, as before
            return
        # Named by the code generator's version: code compiled by another is not loaded.
        app.jinja_env.bytecode_cache = FileSystemBytecodeCache(
            folder, f"__jinja2_{CODE_GENERATOR}_%s.cache"
        )
