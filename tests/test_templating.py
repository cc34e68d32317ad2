"""Templates compiled by ``templating.JoiningCodeGenerator`` give Jinja's own output."""

import traceback

import pytest
from jinja2 import DictLoader, Environment

from cession_app.templating import FastImportTemplate, JoiningCodeGenerator

TEMPLATES = {
    "base.html": "<h>{% block title %}T{% endblock %}</h>{% block body %}{% endblock %}<f>",
    "_part.html": "[{{ v }}{% for i in items %}<{{ i }}>{% endfor %}]",
    "_macros.html": "{% macro m(x) %}({{ x }}){% endmacro %}",
    "page.html": (
        '{% extends "base.html" %}{% from "_macros.html" import m %}'
        "{% block title %}{{ v }}{% endblock %}"
        '{% block body %}a{% include "_part.html" %}{% for i in items %}{{ m(i) }}'
        '{% include "_part.html" without context %}{% endfor %}'
        "{% set kept %}{% include '_part.html' %}{% endset %}{{ kept }}"
        "{% if v %}{{ self.title() }}{% endif %}z{% endblock %}"
    ),
    "broken.html": '{% extends "base.html" %}{% block body %}\n\n{% include "_part.html" %}'
    "\n{{ v.missing.deeper }}{% endblock %}",
}


def _env(joining):
    env = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    if joining:
        env.template_class = FastImportTemplate
        env.code_generator_class = JoiningCodeGenerator
    return env


@pytest.mark.parametrize("v", ["<b>", ""])
def test_the_output_is_jinjas(v):
    values = {"v": v, "items": [1, "<2>", 3]}
    expected = _env(False).get_template("page.html").render(values)
    assert _env(True).get_template("page.html").render(values) == expected
    assert "yield from" not in _env(True).compile(TEMPLATES["page.html"], raw=True)


def test_an_error_names_the_template_line():
    def line_of_error(env):
        try:
            env.get_template("broken.html").render(v=None, items=[])
        except Exception as error:  # noqa: BLE001
            frames = traceback.extract_tb(error.__traceback__)
            return [(f.filename, f.lineno) for f in frames if f.filename == "<template>"]
        raise AssertionError("no error")

    joined = line_of_error(_env(True))
    assert joined == line_of_error(_env(False))
    assert joined[-1] == ("<template>", 4)
