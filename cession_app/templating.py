"""Jinja's template class, with the module of an imported template found without a loop.

``{% from "_form.html" import field %}`` (most pages) asks Jinja for the imported template's
module, which it keeps unless the importing template has globals the imported one lacks. It
finds out with ``set - ChainMap.keys()``: a loop in Python over every global of the
environment (about 280 Python calls per import, on every page). ``set.difference`` over the
ChainMap's dicts gives the same keys in C.
"""

import re
from collections import ChainMap
from types import FunctionType, MethodType

from flask import current_app, template_rendered
from flask.globals import _cv_request
from jinja2 import Template, pass_context
from jinja2.compiler import CodeGenerator
from jinja2.runtime import Context, Macro, missing
from jinja2.utils import _PassArg
from markupsafe import Markup, escape

from .html import safe_html
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


# A page is a chain of generators: the template, the layout it extends, each block and each
# included template. Jinja hands every piece of output up the chain (``yield from``, or a
# loop over an include's output), so each piece resumes every generator above it (a page of
# a thousand pieces, three levels deep: three thousand steps). A block, a layout and an
# include are joined where they are used instead: one step up for each of them. The page's
# text is the same, it is only joined at other levels.
CODE_GENERATOR = "join1"  # names compiled templates on disk (assets): change with the code
_YIELD_FROM = re.compile(r"^( *)yield from (.+)$", re.M)
_YIELD_EACH = re.compile(r"^( *)for event in gen:\n\1    yield event$", re.M)


class JoiningCodeGenerator(CodeGenerator):
    """Jinja's code generator, whose templates join a block's, a parent's and an included
    template's output where they use it (see above)."""

    def visit_Template(self, node, frame=None):
        super().visit_Template(node, frame)
        code = self.stream.getvalue()
        code = _YIELD_FROM.sub(r"\1yield _cession_concat(\2)", code)
        # (as many lines as before: tracebacks name the template's lines by them)
        code = _YIELD_EACH.sub(r"\1for event in (_cession_concat(gen),):\n\1    yield event", code)
        self.stream.seek(0)
        self.stream.truncate()
        self.stream.write(code)


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
        namespace["_cession_concat"] = "".join
        return template

    def new_context(self, vars=None, shared=False, locals=None):
        """Jinja's ``new_context``, whose copy of the globals (a ChainMap) is made in C:
        Jinja's ``dict(globals, **vars)`` reads a ChainMap key by key in Python (about 100
        Python calls at every page). The same keys and values, the first map winning."""
        found = self.globals
        if shared or type(found) is not ChainMap:
            return super().new_context(vars, shared, locals)
        parent = {}
        for mapping in reversed(found.maps):
            parent.update(mapping)
        if vars:
            parent.update(vars)
        if locals:
            for key, value in locals.items():
                if value is not missing:
                    parent[key] = value
        return self.environment.context_class(
            self.environment, parent, self.name, self.blocks, globals=found
        )

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


# The parts of the layout (base.html) that are the same for every page of a language, brand
# and mount point: the head's links, the menu, the language switcher, the footer
# (templates/layout/). Each is rendered once per process and kept, in production only.
_LAYOUT = "cession_layout"  # app.extensions: [brand, {(piece, locale, mount point): Markup}]


@pass_context
def layout_piece(context, name):
    """``templates/layout/<name>.html`` rendered with the page's context; kept while the
    brand is the one kept per process (see ``brand.current``): rebuilt in debug and tests."""
    app = current_app._get_current_object()
    brand = context.get("brand")
    kept = app.extensions.get(_LAYOUT)
    if kept is None or kept[0] is not brand:
        kept = app.extensions[_LAYOUT] = [brand, {}]
    request_context = _cv_request.get(None)
    script_root = request_context.request.script_root if request_context is not None else None
    key = (name, context.get("current_locale"), script_root)
    html = kept[1].get(key)
    if html is None:
        template = context.environment.get_template(f"layout/{name}.html")
        variables = context.get_all()
        html = safe_html(template.render(variables))
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=variables
        )
        if not (app.debug or app.testing):
            kept[1][key] = html
    return html


def init_app(app):
    """Templates loaded from now on use ``FastImportTemplate``, ``FastCallContext`` and the
    joining code generator; ``layout_piece``."""
    app.jinja_env.template_class = FastImportTemplate
    app.jinja_env.context_class = FastCallContext
    app.jinja_env.code_generator_class = JoiningCodeGenerator
    app.jinja_env.globals["layout_piece"] = layout_piece
