"""Jinja's template class, with the module of an imported template found without a loop.

``{% from "_form.html" import field %}`` (most pages) asks Jinja for the imported template's
module, which it keeps unless the importing template has globals the imported one lacks. It
finds out with ``set - ChainMap.keys()``: a loop in Python over every global of the
environment (about 280 Python calls per import, on every page). ``set.difference`` over the
ChainMap's dicts gives the same keys in C.
"""

from collections import ChainMap
from types import FunctionType, MethodType

from jinja2 import Template
from jinja2.runtime import Context, Macro
from jinja2.utils import _PassArg
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


class FastCallContext(Context):
    """A template context whose calls of plain functions, methods and macros skip Jinja's
    checks for ``pass_context`` and the like (``hasattr`` and ``_PassArg.from_obj`` twice:
    about 8 Python calls for each call in a template), the mark read from the function's
    own attributes. A function marked ``pass_context`` called where a loop or block has set
    variables (Jinja gives it a derived context), and every other callable (a form field,
    a class), go through Jinja's own ``Context.call``."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        kind = type(__obj)
        if kind is FunctionType:
            marks = __obj.__dict__
        elif kind is MethodType:
            marks = __obj.__func__.__dict__
        elif kind is Macro:
            marks = _NO_MARKS
        else:
            return Context.call(__self, __obj, *args, **kwargs)
        if "jinja_pass_arg" in marks:
            mark = marks["jinja_pass_arg"]
            if mark is _PassArg.context:
                if ("_loop_vars" in kwargs and kwargs["_loop_vars"]) or (
                    "_block_vars" in kwargs and kwargs["_block_vars"]
                ):
                    return Context.call(__self, __obj, *args, **kwargs)
                args = (__self, *args)
            elif mark is _PassArg.eval_context:
                args = (__self.eval_ctx, *args)
            elif mark is _PassArg.environment:
                args = (__self.environment, *args)
            else:
                return Context.call(__self, __obj, *args, **kwargs)
        if "_block_vars" in kwargs:
            del kwargs["_block_vars"]
        if "_loop_vars" in kwargs:
            del kwargs["_loop_vars"]
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


_NO_MARKS = {}


def init_app(app):
    """Templates loaded from now on use ``FastImportTemplate``, and ``FastCallContext``."""
    app.jinja_env.template_class = FastImportTemplate
    app.jinja_env.context_class = FastCallContext
