"""White-label branding: the provider's name, logo, colour, contacts and footer (settings)."""

import pytest

from cession_app import create_app

BRAND = {
    "BRAND_NAME": "Acme Hosting",
    "BRAND_LOGO": "brand/logo.svg",
    "BRAND_COLOR": "#ffcc00",
    "BRAND_FOOTER": "Acme Hosting s.r.o., Dlouhá 1, Praha",
    "SUPPORT_EMAIL": "help@acme.test",
    "SUPPORT_PHONE": "+420 222 333 444",
    "TERMS_URL": "https://acme.test/terms",
    "PRIVACY_URL": "https://acme.test/privacy",
}


@pytest.fixture
def app_config(app_config):
    """An installation with a brand of its own."""
    app_config.update(BRAND)
    return app_config


def test_every_page_carries_the_brand(client, make, log_in):
    make.account("novak")
    log_in("novak")
    page = client.get("/services/").text
    assert "<title>My services · Acme Hosting</title>" in page
    assert 'src="/static/brand/logo.svg?v=' in page and "<span>Acme Hosting</span>" in page
    assert 'href="/brand.css"' in page
    assert '<link rel="icon" href="/static/brand/logo.svg?v=' in page  # the browser tab's
    assert "Acme Hosting s.r.o., Dlouhá 1, Praha" in page
    assert '<a href="mailto:help@acme.test">help@acme.test</a>' in page
    assert '<a href="tel:+420222333444">+420 222 333 444</a>' in page
    assert 'href="https://acme.test/terms"' in page and 'href="https://acme.test/privacy"' in page


def test_the_colour_comes_from_a_served_stylesheet(client):
    response = client.get("/brand.css")
    assert response.mimetype == "text/css"
    assert "--accent:#ffcc00;" in response.text
    assert "--accent-text:#000000;" in response.text  # dark text on a light colour


def test_the_brand_name_is_escaped(app, client):
    app.config["BRAND_NAME"] = "<b>Acme</b>"
    page = client.get("/login").text
    assert "<title>Log in · &lt;b&gt;Acme&lt;/b&gt;</title>" in page


@pytest.mark.parametrize(
    "setting, value",
    [
        ("BRAND_COLOR", "red; } body { display:none"),
        ("BRAND_LOGO", "brand/missing.svg"),
        ("TERMS_URL", "javascript:alert(1)"),
    ],
)
def test_a_broken_brand_setting_refuses_to_start(app_config, setting, value):
    app_config[setting] = value
    with pytest.raises(RuntimeError, match=setting):
        create_app(app_config)


def test_the_default_brand_is_neutral(app, client):
    from cession_app.config import SETTINGS

    app.config.update({name: SETTINGS[name][0] for name in BRAND})
    page = client.get("/login").text
    assert "<title>Log in · Customer panel</title>" in page
    assert 'src="/static/brand/logo.svg?v=' in page
    assert "tel:" not in page and "Terms of service" not in page


def test_without_a_logo_no_page_names_an_icon(app, client):
    app.config["BRAND_LOGO"] = ""
    page = client.get("/login").text
    assert "<img" not in page.split("</header>")[0] and 'rel="icon"' not in page


def test_pages_show_the_support_address_a_process_read_lately(app, client, make, monkeypatch):
    """Outside tests a process keeps the settings pages show for a few seconds (the log-in
    page then runs no SQL statement); a save shows at once in the process that made it."""
    from sqlalchemy import event

    from cession_app import site_settings
    from cession_app.extensions import db

    admin = make.account("admin", staff=True)
    monkeypatch.setattr(site_settings, "_keep_seconds", lambda: 60)
    assert "help@acme.test" in client.get("/login").text
    statements = []

    def count(*args):
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert "help@acme.test" in client.get("/login").text
        assert statements == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with app.test_request_context():
        site_settings.save({"SUPPORT_EMAIL": "desk@acme.test"}, admin)
        db.session.commit()
    assert "desk@acme.test" in client.get("/login").text


def test_the_layout_kept_outside_tests_is_the_layout_of_each_page(app, client, make, log_in):
    """Outside tests the layout's fixed parts (head links, menu, language switcher, footer)
    are rendered once per language, brand and mount point and kept: the pages are the same
    as when every part is rendered, for a visitor and an account, in each language."""
    import re

    from cession_app import site_settings
    from cession_app.extensions import db

    admin = make.account("admin", staff=True)
    make.account("novak")

    def page(path):  # the session's CSRF token and open sessions differ from run to run
        text = client.get(path).text
        text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
        return re.sub(r"(?s)<table.*</table>", "", text)

    def pages():
        found = []
        for language in ("en", "cs"):
            client.post("/language", data={"language": language, "next": "/"})
            found.append(page("/login"))
            log_in("novak")
            client.post("/language", data={"language": language, "next": "/"})
            found.append(page("/services/"))
            found.append(page("/my-data"))
            client.post("/logout")
            client.get("/login")  # its message shown
        return found

    rendered = pages()
    assert 'lang="cs"' in rendered[2] and "Customer panel" not in rendered[2]
    app.testing = False
    try:
        assert pages() == rendered
        assert pages() == rendered  # from the kept parts
        with app.test_request_context():
            site_settings.save({"SUPPORT_EMAIL": "desk@acme.test"}, admin)
            db.session.commit()
        page = client.get("/login").text
        assert "desk@acme.test" in page and "help@acme.test" not in page
        page = client.get("/login", base_url="http://localhost/panel/").text
        assert 'href="/panel/static/style.css?v=' in page
    finally:
        app.testing = True
