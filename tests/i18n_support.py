"""i18n test helpers: extract like `make translations`, compile catalogs, build a pseudo-locale.

The extraction uses translations/babel.cfg and the Makefile's EXTRACT_KEYWORDS, so the tests
see exactly the messages `make translations` would put into the catalogs.
"""

import json
import os
import re
import shlex
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
BABEL_CFG = TRANSLATIONS / "babel.cfg"
SHIPPED = ("pl", "cs", "de")
COMMENT_TAG = "TRANSLATORS:"

# The pseudo-locale: a language Babel (and WTForms) know but we never ship. Its script is
# Greek, so dates and WTForms' own messages contain no Latin letters: any Latin word left
# on a page outside the markers is English that did not go through gettext.
PSEUDO = "el"
OPEN, CLOSE = "⟦", "⟧"


def makefile_keywords():
    """The extra extraction keywords of the Makefile (EXTRACT_KEYWORDS := -k ... -k ...)."""
    text = (ROOT / "Makefile").read_text()
    line = re.search(r"^EXTRACT_KEYWORDS\s*:?=\s*(.*)$", text, re.M).group(1)
    words = shlex.split(line)
    specs = [words[i + 1] for i, word in enumerate(words) if word == "-k"]
    return parse_keywords(specs)


def extract_catalog(root=ROOT):
    """All messages of the code and templates under ``root``, as a fresh Catalog (a .pot)."""
    with open(BABEL_CFG) as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj)
    keywords = {**DEFAULT_KEYWORDS, **makefile_keywords()}
    catalog = Catalog(project="cession")
    found = extract_from_dir(
        root,
        method_map,
        options_map,
        keywords=keywords,
        comment_tags=(COMMENT_TAG,),
        strip_comment_tags=False,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_catalog(lang):
    """The committed catalog of ``lang``."""
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fileobj:
        return read_po(fileobj, locale=lang)


def _write_mo_atomically(catalog, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
    with os.fdopen(fd, "wb") as fileobj:
        write_mo(fileobj, catalog)
    os.replace(tmp, target)


def compile_catalogs():
    """Compile each translations/<lang>/LC_MESSAGES/messages.po whose .mo is missing or stale.

    `make test` compiles too; this keeps a plain `pytest` run from using stale .mo files.
    """
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            _write_mo_atomically(read_catalog(po.parent.parent.name), mo)


def mark(text):
    """The pseudo translation of a message: the same text between markers."""
    return f"{OPEN}{text}{CLOSE}"


def build_pseudo_catalog(directory, locale=PSEUDO):
    """Compile a catalog for ``locale`` in which every extracted message is marked."""
    source = extract_catalog()
    pseudo = Catalog(locale=locale, project="cession")
    for message in source:
        if not message.id:
            continue
        if message.pluralizable:
            singular, plural = message.id
            forms = [mark(singular)] + [mark(plural)] * (pseudo.num_plurals - 1)
            pseudo.add(message.id, tuple(forms), context=message.context)
        else:
            pseudo.add(message.id, mark(message.id), context=message.context)
    _write_mo_atomically(pseudo, Path(directory) / locale / "LC_MESSAGES" / "messages.mo")
    return directory


# ---------------------------------------------------------------- the hard-coded text checker
MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
URL = re.compile(r"\b(?:https?|mailto):[^\s<>\"']+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


def leaked_words(text, data=()):
    """The Latin words of ``text`` outside the markers and the data values (empty: clean)."""
    previous = None
    while previous != text:  # innermost first: translated texts may hold translated texts
        previous, text = text, MARKED.sub(" ", text)
    text = URL.sub(" ", text)
    text = EMAIL.sub(" ", text)
    for value in sorted((v for v in data if v), key=len, reverse=True):
        text = text.replace(value, " ")
    return WORD.findall(text)


def _js_string(literal):
    """The value of a JSON/JavaScript string literal (``tojson`` escapes non-ASCII)."""
    try:
        return json.loads(literal)
    except ValueError:
        return literal[1:-1]


class _VisibleText(HTMLParser):
    """Collects what a reader sees: text nodes, and titles, labels and button values.

    Elements marked ``translate="no"`` (codes and keys to type as shown) are left out.
    """

    # <code>: identifiers and machine text (paths, field names, SMTP answers), never translated.
    SKIP = {"script", "style", "code"}
    ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}
    BUTTONS = {"submit", "button", "reset"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts = []
        self._skipping = 0
        self._skipped = []  # the tags skipped, innermost last

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP or attrs.get("translate") == "no":
            self._skipping += 1
            self._skipped.append(tag)
        for name, value in attrs.items():
            if value is None:
                continue
            if name in self.ATTRIBUTES:
                self.texts.append(value)
            elif name == "value" and tag == "input" and attrs.get("type") in self.BUTTONS:
                self.texts.append(value)
            elif name.startswith("on"):
                # confirm("...") and the like: the quoted strings are shown to the reader.
                for literal in re.findall(r'"(?:[^"\\]|\\.)*"', value):
                    self.texts.append(_js_string(literal))

    def handle_endtag(self, tag):
        if self._skipped and self._skipped[-1] == tag:
            self._skipped.pop()
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.texts.append(data)


def visible_texts(html):
    """The visible texts of an HTML document."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.texts


def html_leaks(html, data=()):
    """[(text, words)] for each visible text of ``html`` that holds unmarked Latin words."""
    found = []
    for text in visible_texts(html):
        words = leaked_words(text, data)
        if words:
            found.append((text.strip(), words))
    return found


def text_leaks(text, data=()):
    """[(line, words)] for each line of a plain text (a mail's text part, a subject)."""
    found = []
    for line in text.splitlines():
        words = leaked_words(line, data)
        if words:
            found.append((line.strip(), words))
    return found
