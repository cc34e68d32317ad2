"""Calls in templates (``templating.FastCallContext``) give what Jinja's own ``Context.call``
gives: the context, eval context or environment to a function marked for it, the variables
a loop or block set to a ``pass_context`` function, plain calls, macros and callables."""

from jinja2 import Environment, pass_context, pass_environment, pass_eval_context

from cession_app.templating import FastCallContext

SOURCE = """\
{%- macro m(x) %}<{{ x }}|{{ caller() if caller else "" }}>{% endmacro -%}
{{ plain(1, b=2) }} {{ ctx("v") }} {{ evx() }} {{ envx() }} {{ obj.method(3) }} {{ call_me() }}
{% for n in [7, 8] %}{% set w = n %}{{ ctx("w") }}{{ obj.marked("w") }}{% endfor %}
{% set v = 9 %}{{ ctx("v") }} {{ m(4) }} {% call m(5) %}inner{% endcall %} {{ stops() }}
{% block b %}{% set v = 10 %}{{ ctx("v") }}{{ plain(5) }}{% endblock %}"""


class Thing:
    def method(self, n):
        return n * 2

    @pass_context
    def marked(self, context, name):
        return context.resolve(name)


class Callable:
    def __call__(self):
        return "called"


def _globals():
    def stops():
        raise StopIteration

    return {
        "plain": lambda a, b=0: a + b,
        "ctx": pass_context(lambda context, name: context.resolve(name)),
        "evx": pass_eval_context(lambda eval_ctx: eval_ctx.autoescape),
        "envx": pass_environment(lambda env: type(env).__name__),
        "obj": Thing(),
        "call_me": Callable(),
        "stops": stops,
        "v": "top",
    }


def _render(context_class):
    env = Environment(autoescape=True)
    if context_class is not None:
        env.context_class = context_class
    return env.from_string(SOURCE).render(_globals())


def test_calls_give_what_jinja_gives():
    mine = _render(FastCallContext)
    assert mine == _render(None)
    assert "3 top True Environment 6 called" in mine
    assert "7788" in mine
    assert "<4|> <5|inner>" in mine
    assert mine.endswith("\n105")


def test_the_app_uses_it(app):
    assert app.jinja_env.context_class is FastCallContext
