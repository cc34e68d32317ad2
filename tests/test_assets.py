"""Static files under versioned URLs, cached for a year; templates compiled once."""

import re

from jinja2 import FileSystemBytecodeCache

from cession_app import assets, create_app
from cession_app.extensions import db


def test_static_urls_carry_the_files_version_and_are_cached_for_a_year(app, client):
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'href="(/static/style\.css\?v=([0-9a-f]{12}))"', page)
    assert found, "the stylesheet's URL has no version"
    assert found.group(2) == assets.version(app.static_folder, "style.css")
    response = client.get(found.group(1))
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.public and response.cache_control.immutable
    response.close()
    unversioned = client.get("/static/style.css")
    assert unversioned.cache_control.max_age != 365 * 24 * 3600
    unversioned.close()


def test_a_changed_file_gets_a_new_version(tmp_path):
    (tmp_path / "a.css").write_text("a {}")
    first = assets.version(str(tmp_path), "a.css")
    (tmp_path / "a.css").write_text("a { color: red }")
    assert assets.version(str(tmp_path), "a.css") != first
    assert assets.version(str(tmp_path), "missing.css") is None


def test_production_keeps_compiled_templates_and_never_reloads_them(app_config, tmp_path):
    config = {**app_config, "TESTING": False, "JINJA_CACHE_DIR": str(tmp_path / "jinja")}
    production = create_app(config)
    with production.app_context():
        assert production.jinja_env.auto_reload is False
        assert isinstance(production.jinja_env.bytecode_cache, FileSystemBytecodeCache)
        production.jinja_env.get_template("base.html")
        assert list((tmp_path / "jinja").iterdir()), "no compiled template was kept"
        db.engine.dispose()
