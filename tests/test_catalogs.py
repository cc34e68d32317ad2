"""The pl, cs and de catalogs are complete, clean and in step with the code."""

import os
import re
import shutil
import subprocess

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests.i18n_support import (
    BABEL_CFG,
    COMMENT_TAG,
    ROOT,
    SHIPPED,
    TRANSLATIONS,
    extract_catalog,
    makefile_keywords,
    read_catalog,
)

NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@pytest.fixture(scope="module")
def extracted():
    """The messages of the code as it is now (what `make translations` would extract)."""
    return extract_catalog()


def _key(message):
    return (message.context, message.id if isinstance(message.id, str) else message.id[0])


def _placeholders(text):
    return set(NAMED.findall(text))


@pytest.mark.parametrize("lang", SHIPPED)
def test_msgfmt_check_reports_no_untranslated_and_no_fuzzy(lang):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        if os.environ.get("CI"):
            pytest.fail("msgfmt (gettext) is missing")
        pytest.skip("msgfmt (gettext) is not installed")
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", os.devnull, str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), statistics


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_extracted_message_is_translated(extracted, lang):
    catalog = read_catalog(lang)
    assert not catalog.fuzzy, f"{lang}: the catalog header is marked fuzzy"
    translated = {_key(m): m for m in catalog if m.id}
    problems = []
    for message in extracted:
        if not message.id:
            continue
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        found = translated.get(_key(message))
        if found is None:
            problems.append(f"missing {message.id!r} ({where})")
        elif found.fuzzy:
            problems.append(f"fuzzy {message.id!r}")
        elif found.id != message.id:
            problems.append(f"plural differs {message.id!r} vs {found.id!r}")
        elif not all(found.string if found.pluralizable else [found.string]):
            problems.append(f"untranslated {message.id!r} ({where})")
    assert not problems, f"{lang}: run `make translations`, then translate:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", SHIPPED)
def test_placeholders_of_translations_match(lang):
    catalog = read_catalog(lang)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            expected = _placeholders(message.id[1]) | _placeholders(message.id[0])
            forms = message.string
        else:
            expected = _placeholders(message.id)
            forms = [message.string]
        for form in forms:
            if _placeholders(form) != expected:
                problems.append(f"{message.id!r}: {form!r} has {sorted(_placeholders(form))}")
    problems += [f"{m.id!r}: {e}" for m, errors in catalog.check() for e in errors]
    assert not problems, f"{lang}:\n" + "\n".join(problems)


def _plural_values(header):
    """The form index a Plural-Forms header picks for n = 0..1000."""
    from gettext import c2py

    rule = c2py(header.split("plural=", 1)[1].strip().rstrip(";"))
    return [rule(n) for n in range(1001)]


def test_plural_rules_compare_by_value_not_by_text():
    old = "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
    new = (
        "nplurals=3; plural=n == 1 ? 0 : n % 10 >= 2 && n % 10 <= 4"
        " && (n % 100 < 12 || n % 100 > 14) ? 1 : 2;"
    )
    assert _plural_values(old) == _plural_values(new)
    assert _plural_values(old) != _plural_values("nplurals=2; plural=(n != 1);")


@pytest.mark.parametrize("lang, forms", [("pl", 3), ("cs", 3), ("de", 2)])
def test_plural_forms_header_fits_the_language(lang, forms):
    catalog = read_catalog(lang)
    assert catalog.num_plurals == forms
    # Babel versions write the same rule differently: compare what the rules compute.
    expected = Catalog(locale=Locale.parse(lang)).plural_forms
    assert _plural_values(catalog.plural_forms) == _plural_values(expected)
    for message in catalog:
        if message.id and message.pluralizable:
            assert len(message.string) == forms, message.id


def test_messages_use_named_placeholders_only(extracted):
    positional = []
    for message in extracted:
        for text in [message.id] if isinstance(message.id, str) else message.id:
            bare = NAMED.sub("", text.replace("%%", ""))
            if POSITIONAL.search(bare):
                positional.append(text)
    assert not positional, f"use %(name)s placeholders: {positional}"


# ---------------------------------------------------------------- extraction itself
SAMPLE_PY = """
from flask_babel import gettext, lazy_gettext, lazy_ngettext, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

A = _("py underscore")
B = gettext("py gettext")
C = _l("py lazy alias")
D = lazy_gettext("py lazy gettext")
E = ngettext("%(num)d py apple", "%(num)d py apples", 3)
F = lazy_ngettext("%(num)d py pear", "%(num)d py pears", 3)
# TRANSLATORS: a note for the Python message
G = _("py commented")
"""

SAMPLE_HTML = """
<p>{{ _("page underscore") }} {{ gettext("page gettext") }}</p>
{# TRANSLATORS: a note in a page #}
<p>{{ _("page commented") }}</p>
<p>{% trans count=items | length %}
   {{ count }} page item
{% pluralize %}
   {{ count }} page items
{% endtrans %}</p>
<p>{{ ngettext("%(num)d page file", "%(num)d page files", 2) }}</p>
"""

SAMPLE_TXT = """{% trans name=user %}Hello {{ name }},
   mail text{% endtrans %}
{{ _("mail underscore") }}
"""


def test_make_translations_extracts_python_pages_and_mails(tmp_path, monkeypatch):
    """Run pybabel as the Makefile does on a small project; every form is picked up."""
    app_dir = tmp_path / "cession_app"
    (app_dir / "templates" / "emails").mkdir(parents=True)
    (app_dir / "sample.py").write_text(SAMPLE_PY)
    (app_dir / "templates" / "page.html").write_text(SAMPLE_HTML)
    (app_dir / "templates" / "emails" / "mail.txt").write_text(SAMPLE_TXT)
    keyword_args = [arg for name in makefile_keywords() for arg in ("-k", _spec(name))]
    monkeypatch.chdir(tmp_path)
    argv = ["pybabel", "-q", "extract", "-F", str(BABEL_CFG), *keyword_args]
    argv += [f"--add-comments={COMMENT_TAG}", "--no-wrap", "-o", "messages.pot", "."]
    CommandLineInterface().run(argv)
    with open(tmp_path / "messages.pot", "rb") as fileobj:
        pot = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(fileobj) if m.id}
    singles = ["py underscore", "py gettext", "py lazy alias", "py lazy gettext", "py commented"]
    singles += ["page underscore", "page gettext", "page commented", "mail underscore"]
    singles += ["Hello %(name)s, mail text"]  # trimmed: whitespace and newlines collapsed
    plurals = {
        "%(num)d py apple": "%(num)d py apples",
        "%(num)d py pear": "%(num)d py pears",
        "%(count)s page item": "%(count)s page items",
        "%(num)d page file": "%(num)d page files",
    }
    assert set(pot) == set(singles) | set(plurals)
    for singular, plural in plurals.items():
        assert pot[singular].id == (singular, plural)
    assert _notes(pot["py commented"]) == ["a note for the Python message"]
    assert _notes(pot["page commented"]) == ["a note in a page"]


def _notes(message):
    """Translator comments (Jinja drops the tag, Python keeps it)."""
    return [c.removeprefix(COMMENT_TAG).strip() for c in message.auto_comments]


def _spec(name):
    """The -k argument of one Makefile keyword (as parse_keywords read it back)."""
    spec = makefile_keywords()[name]
    if spec is None:
        return name
    parts = [f"{p[0]}{p[1]}" if isinstance(p, tuple) else str(p) for p in spec]
    return f"{name}:{','.join(parts)}"


def test_makefile_extracts_from_the_root_with_the_shared_settings():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntranslations:") :].split("\n\n")[0]
    assert "-F translations/babel.cfg $(EXTRACT_KEYWORDS)" in recipe
    assert f"--add-comments={COMMENT_TAG}" in recipe
    assert re.search(r"-o translations/messages\.pot \.\s*$", recipe, re.M), recipe
    assert "compile -d translations" in recipe
    assert {"_l", "lazy_gettext", "lazy_ngettext"} <= set(makefile_keywords())
    assert "*.mo" in (ROOT / ".gitignore").read_text().split()
    tracked = subprocess.run(
        ["git", "ls-files", "translations"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    assert ".mo" not in tracked, "compiled catalogs are built by make, never committed"
