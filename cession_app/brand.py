"""White-label branding from the settings: the provider's name, logo, primary colour,
support contacts, terms and privacy links and footer, on every page and in every mail.

The colour reaches the pages through a served stylesheet (``/brand.css``: CSS custom
properties), never an inline style, which the Content-Security-Policy forbids.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Response, current_app

from .i18n import lazy_gettext as _l
from .urls import fixed_url

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
STATIC = Path(__file__).resolve().parent.parent / "static"


@dataclass(frozen=True)
class Brand:
    """What the pages and mails show of the provider."""

    name: object
    logo: str
    colour: str
    support_email: str
    support_phone: str
    terms_url: str
    privacy_url: str
    footer: str

    @property
    def logo_url(self):
        """The logo's path on this site (a file under static/), or "" for none."""
        if not self.logo:
            return ""
        if self.logo.startswith("/"):
            return self.logo
        return fixed_url("static", filename=self.logo)


def current():
    """The brand of this installation (BRAND_NAME empty: "Customer panel", translated).

    Kept per process and support address in production, where the settings do not change
    while it runs (the support address may: staff edit it); built every time in debug and
    tests."""
    from .mailer import support_address

    app = current_app
    email = support_address(kept=True)
    if app.debug or app.testing:
        return _brand(app.config, email)
    kept = app.extensions.get("cession_brand")
    if kept is None or kept.support_email != email:
        kept = app.extensions["cession_brand"] = _brand(app.config, email)
    return kept


def _brand(cfg, support_email):
    return Brand(
        name=cfg["BRAND_NAME"] or _l("Customer panel"),
        logo=cfg["BRAND_LOGO"],
        colour=cfg["BRAND_COLOR"],
        support_email=support_email,
        support_phone=cfg["SUPPORT_PHONE"],
        terms_url=cfg["TERMS_URL"],
        privacy_url=cfg["PRIVACY_URL"],
        footer=cfg["BRAND_FOOTER"],
    )


def _text_on(colour):
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def stylesheet():
    """``/brand.css``: the primary colour as CSS custom properties."""
    colour = current_app.config["BRAND_COLOR"]
    css = f":root {{ --accent:{colour}; --accent-text:{_text_on(colour)}; }}\n"
    response = Response(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


def check_config(config):
    """Refuse to start with a brand setting that would break every page."""
    if not COLOUR.fullmatch(config["BRAND_COLOR"]):
        raise RuntimeError(
            f"BRAND_COLOR must be a colour like #0b5cad, not {config['BRAND_COLOR']!r}"
            " (see README, Settings)."
        )
    logo = config["BRAND_LOGO"]
    if logo and not logo.startswith("/") and not (STATIC / logo).resolve().is_file():
        raise RuntimeError(f"BRAND_LOGO: no file static/{logo} (see README, Settings).")
    for name in ("TERMS_URL", "PRIVACY_URL"):
        if config[name] and urlsplit(config[name]).scheme not in ("http", "https"):
            raise RuntimeError(f"{name} must be an http(s) address (see README, Settings).")


def init_app(app):
    """The stylesheet route and ``brand`` in every template (pages and mails)."""
    check_config(app.config)
    app.add_url_rule("/brand.css", "brand_stylesheet", stylesheet)
    app.context_processor(lambda: {"brand": current()})
