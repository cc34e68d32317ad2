"""URLs built once: for the many rows of a page, and for the links of every page.

``url_for`` matches the endpoint's rule and builds every part again (about 60 Python calls);
a list of 50 rows linking to 50 records calls it 50 times for URLs that differ in one
number. ``url_builder(endpoint, name, **values)`` builds the URL once with a marker in
place of the number and returns a function of the number.

``fixed_url(endpoint, **values)`` is ``url_for`` for the links every page carries (style
sheets and scripts with their version, the menu): built once per process (and mount point)
in production, where static files and templates do not change while a process runs (see
``assets``); built every time in debug and tests.
"""

from flask import current_app, request, url_for
from flask.globals import _cv_app, _cv_request
from werkzeug.routing import IntegerConverter

_FIXED = "cession_fixed_urls"  # app.extensions: {(mount point, endpoint, *values): URL}
# A number no record has, that the int converter writes as it is (no zero-padding, no sign).
_MARK = 7_364_019_283_746_501


def url_builder(endpoint, name, **values):
    """A function ``f(number) == url_for(endpoint, **{name: number}, **values)`` for a rule
    whose ``name`` is an ``int`` part (other converters quote: use ``url_for``)."""
    rules = current_app.url_map.iter_rules(endpoint)
    if not all(isinstance(rule._converters.get(name), IntegerConverter) for rule in rules):
        raise ValueError(f"{endpoint}: {name} is not an int part of its URL")
    url = url_for(endpoint, **{name: _MARK}, **values)
    head, found, tail = url.partition(str(_MARK))
    if not found or str(_MARK) in tail:
        raise ValueError(f"{endpoint}: {name} is not a plain number in {url}")

    def build(number):
        return f"{head}{int(number)}{tail}"

    return build


def fixed_url(endpoint, **values):
    """``url_for(endpoint, **values)``, kept per process in production (see module)."""
    # Flask's context variables, not the ``current_app`` and ``request`` proxies: a page
    # has a dozen of these links.
    app_context = _cv_app.get(None)
    app = app_context.app if app_context is not None else current_app._get_current_object()
    kept = app.extensions.get(_FIXED)
    if kept is None:
        if app.debug or app.testing:
            return url_for(endpoint, **values)
        kept = app.extensions[_FIXED] = {}
    request_context = _cv_request.get(None)
    script_root = (request_context.request if request_context is not None else request).script_root
    key = (script_root, endpoint, *sorted(values.items()))
    url = kept.get(key)
    if url is None:
        url = kept[key] = url_for(endpoint, **values)
    return url


def init_app(app):
    """``url_builder`` and ``fixed_url`` in every template."""
    app.jinja_env.globals.update(url_builder=url_builder, fixed_url=fixed_url)
