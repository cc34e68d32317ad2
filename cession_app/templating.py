"""Jinja's template class, with the module of an imported template found without a loop.

``{% from "_form.html" import field %}`` (most pages) asks Jinja for the imported template's
module, which it keeps unless the importing template has globals the imported one lacks. It
finds out with ``set - ChainMap.keys()``: a loop in Python over every global of the
environment (about 280 Python calls per import, on every page). ``set.difference`` over the
ChainMap's dicts gives the same keys in C.
"""

from collections import ChainMap

from jinja2 import Template
from markupsafe import Markup, escape

from .i18n import LazyText


def _escape(value):
    """``markupsafe.escape``, but HTML already (Markup: translated messages, macros, form
    fields) is returned as it is: markupsafe copies it, about 6 Python calls each time.
    A label (``LazyText``) gives its escaped text, kept per catalog, without the copy."""
    kind = type(value)
    if kind is Markup:
        return value
    if kind is LazyText:
        return value.__html__()
    return escape(value)


class FastImportTemplate(Template):
    """A Jinja template whose imports find the kept module fast (see module), and whose
    output of Markup skips the copy (``_escape``)."""

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):
        """The template of compiled code; its functions see ``_escape`` as ``escape``."""
        template = super().from_code(environment, code, globals, uptodate)
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is escape:
            namespace["escape"] = _escape
        return template

    def _get_default_module(self, ctx=None):
        if ctx is not None and not self.environment.is_async:
            found = self.globals
            maps = found.maps if isinstance(found, ChainMap) else (found,)
            if not ctx.globals_keys.difference(*maps):
                if self._module is None:
                    self._module = self.make_module()
                return self._module
        return super()._get_default_module(ctx)


def init_app(app):
    """Templates loaded from now on use ``FastImportTemplate``."""
    app.jinja_env.template_class = FastImportTemplate
