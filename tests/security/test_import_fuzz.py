"""import-data never crashes: mutated files (seeded random) give a message and exit 1, or import.

Issue 10, item 11b: huge integers, deep nesting, lone surrogates and wrong types used to end
in a traceback. Every answer here is either a successful import (exit 0) or a message naming
the record and field, or the position in the file (exit 1), with nothing written.
"""

import copy
import io
import json
import random
import re

import pytest

from cession_app import dataio, records
from tests.test_dataio import row_counts, sample

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    1.5,
    1e308,
    float("inf"),
    [],
    {},
    [[["deep"]]],
    {"a": {"b": 1}},
    "",
    " x",
    "x\u0000y",
    "line\r\nBcc: x@example.org",
    "\ud800",
    "a\udfffb",
    "x" * 5000,
    "ż" * 300,
    records.HugeNumber(5000),
]


def _paths(doc):
    """Every (container, key) pair in the document, to replace one value."""
    found = []

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            found.append((node, key))
            if isinstance(value, dict | list):
                walk(value)

    walk(doc)
    return found


def _huge(rng):
    return "-" * rng.randint(0, 1) + "9" * rng.choice([20, 4301, 5000, 50000])


def _deep(rng):
    depth = rng.choice([70, 1500, 5000, 100000])
    opener = rng.choice(["[", '{"a":'])
    closer = "]" if opener == "[" else "}"
    return opener * depth + "1" + closer * depth


def _text_mutation(rng, text):
    """The valid document's text with one mutation the review's fuzzer made."""
    kind = rng.randrange(8)
    at = rng.randrange(len(text))
    if kind == 0:  # a value becomes a huge integer
        return re.sub(r'"[^"]*"(?=[,\n}])', lambda m: _huge(rng), text, count=1)
    if kind == 1:  # deep nesting where a value was
        return text[:at] + _deep(rng) + text[at:]
    if kind == 2:  # a lone surrogate inside a string
        return text.replace('"', '"\\ud83d', rng.randint(1, 40))
    if kind == 3:  # a byte flipped
        return text[:at] + chr(rng.randrange(0x20, 0x7F)) + text[at + 1 :]
    if kind == 4:  # cut short
        return text[:at]
    if kind == 5:  # a key duplicated
        return text.replace('"id": ', '"id": "X", "id": ', 1)
    if kind == 6:  # a control character or NUL escaped in a string
        return text.replace('": "', '": "\\u0000', rng.randint(1, 30))
    return text[:at] + rng.choice(["NaN", "-Infinity", "1e99999", "[]", "{}", "null"]) + text[at:]


def _value_mutation(rng, doc):
    doc = copy.deepcopy(doc)
    node, key = rng.choice(_paths(doc))
    node[key] = rng.choice(ODD_VALUES)
    return doc


def mutated_files(seed, count):
    """``count`` (name, text) pairs: text mutations and value mutations of the sample."""
    rng = random.Random(seed)
    base = json.dumps(sample(), indent=2)
    for number in range(count):
        if number % 2:
            yield f"text-{number}", _text_mutation(rng, base)
        else:
            doc = _value_mutation(rng, sample())
            # HugeNumber stands for an integer too long for Python: write it as its digits.
            text = json.dumps(doc, default=lambda v: "HUGE").replace('"HUGE"', "9" * 5000)
            yield f"value-{number}", text


def test_loading_and_checking_never_raises_anything_but_data_error(app):
    for name, text in mutated_files(seed=20261202, count=1500):
        try:
            dataio.check_document(dataio.load(io.StringIO(text)))
        except dataio.DataError as exc:
            assert exc.problems, name
            for problem in exc.problems:
                problem.encode("utf-8")  # printable: no lone surrogate reaches the terminal


@pytest.mark.parametrize("seed", [1, 2])
def test_import_data_on_mutated_files_answers_without_traceback(runner, tmp_path, seed):
    path = tmp_path / "mutated.json"
    for name, text in mutated_files(seed=seed, count=120):
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        before = row_counts()
        result = runner.invoke(args=["import-data", str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            name,
            result.exception,
        )
        assert "Traceback" not in result.output, name
        assert result.exit_code in (0, 1), (name, result.output)
        result.output.encode("utf-8")
        if result.exit_code == 1:
            assert "nothing was imported" in result.output, name
            assert row_counts() == before, name


def _write(tmp_path, text):
    path = tmp_path / "data.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_huge_integer_is_named_by_record_and_field(runner, tmp_path):
    text = json.dumps(sample()).replace('"100234"', "9" * 5000, 1)
    result = runner.invoke(args=["import-data", _write(tmp_path, text)])
    assert result.exit_code == 1
    assert (
        'accounts[0] (code egeelhil8): field "number" must be a string,'
        " not <a number of 5000 digits>"
    ) in result.output
    assert row_counts() == (0, 0, 0)


def test_deep_nesting_is_named_by_its_position(runner, tmp_path):
    text = '{"accounts": [\n' + "[" * 5000 + "]" * 5000 + "]}"
    result = runner.invoke(args=["import-data", _write(tmp_path, text)])
    assert result.exit_code == 1
    assert "nested more than 64 levels deep at line 2 column 63" in result.output


def test_shallower_nesting_is_refused_per_field(runner, tmp_path):
    doc = sample()
    doc["services"][0]["kind"] = [[["webhosting"]]]
    result = runner.invoke(args=["import-data", _write(tmp_path, json.dumps(doc))])
    assert result.exit_code == 1
    assert 'services[0] (id S-1001): field "kind" must be a string, not [...] (1)' in result.output


def test_a_lone_surrogate_is_named_and_printed_escaped(runner, tmp_path):
    text = json.dumps(sample()).replace('"Jan Nov', '"\\ud800Jan Nov', 1)
    result = runner.invoke(args=["import-data", _write(tmp_path, text)])
    assert result.exit_code == 1
    assert (
        'accounts[0] (code egeelhil8): field "name" must not contain control characters'
        ' or broken Unicode, as "\\ud800Jan Novák" does'
    ) in result.output
    assert row_counts() == (0, 0, 0)


def test_a_lone_surrogate_in_a_key_or_label_is_printed_escaped(runner, tmp_path):
    text = json.dumps(sample()).replace('"egeelhil8"', '"e\\udc00"', 1)
    text = text.replace('"staff"', '"st\\ud800aff"', 1)
    result = runner.invoke(args=["import-data", _write(tmp_path, text)])
    assert result.exit_code == 1
    assert 'accounts[0] (code e\\udc00): field "code" must not contain' in result.output
    assert 'unknown field "st\\ud800aff"' in result.output


def test_nul_in_free_text_is_refused_before_the_database(runner, tmp_path):
    doc = sample()
    doc["accounts"][0]["billing"]["address"] = "Dlouhá 1\u0000"
    result = runner.invoke(args=["import-data", _write(tmp_path, json.dumps(doc))])
    assert result.exit_code == 1
    assert 'field "billing.address" must not contain control characters' in result.output


@pytest.mark.parametrize("kind", records.KINDS)
def test_every_field_refuses_every_odd_value_with_a_message(app, kind):
    valid = sample()[kind][0]
    for field in records.FIELDS[kind]:
        for value in ODD_VALUES:
            record = dict(valid, **{field: value})
            checked, problems = records.check(kind, record)
            if checked is None:
                assert problems and all(p.field and p.code for p in problems), (field, value)
                assert any(field in p.message for p in problems), (field, value)
