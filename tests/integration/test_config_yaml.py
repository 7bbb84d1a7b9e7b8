"""Reading YAML into positioned values: what Zuul's loader accepts and how it fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.adapters.config_yaml import YamlSyntaxError, load_yaml, read_yaml
from lockgate.core.config.parse import parse_config
from lockgate.core.config.source import ConfigList, ConfigMap, Mark, Source, Tagged

SOURCE = Source("org/project", "master", "zuul.d/jobs.yaml", trusted=False)


def test_mappings_keys_and_items_remember_their_lines_and_columns() -> None:
    text = (
        "- job:\n    name: unit\n    vars:\n      a: 1\n"
        "- project:\n    check:\n      jobs:\n        - unit\n"
    )
    documents = load_yaml(text, SOURCE)

    assert isinstance(documents, ConfigList)
    assert documents.where.mark == Mark(1, 1)
    assert documents.item_marks == [Mark(1, 3), Mark(5, 3)]
    job = documents[0]["job"]
    assert isinstance(job, ConfigMap)
    assert job.where.mark == Mark(2, 5)
    assert job.key_marks == {"name": Mark(2, 5), "vars": Mark(3, 5)}
    assert job.at("vars").mark == Mark(3, 5)
    assert job.at("absent") == job.where
    jobs = documents[1]["project"]["check"]["jobs"]
    assert jobs == ["unit"]
    assert jobs.at(0).mark == Mark(8, 11)
    assert str(jobs.at(0)) == "org/project/zuul.d/jobs.yaml@master:8:11"


def test_scalars_are_plain_python_values() -> None:
    value = load_yaml("a: 1\nb: true\nc: null\nd: text\ne: 1.5\n", SOURCE)
    assert value == {"a": 1, "b": True, "c": None, "d": "text", "e": 1.5}
    assert type(value["d"]) is str


def test_zuul_tags_become_tagged_values_with_their_position() -> None:
    text = (
        "files: !override\n  - ^docs/.*\n"
        "vars: !inherit {a: 1}\n"
        "key: !encrypted/pkcs1-oaep\n  - AAAA\n  - BBBB\n"
        "one: !encrypted/pkcs1-oaep CCCC\n"
    )
    value = load_yaml(text, SOURCE)
    assert value["files"] == Tagged("!override", ["^docs/.*"], value["files"].where)
    assert value["files"].where.mark == Mark(1, 8)
    assert isinstance(value["vars"].value, ConfigMap)
    assert value["vars"].tag == "!inherit"
    assert value["key"].value == ["AAAA", "BBBB"]
    assert value["one"] == Tagged("!encrypted/pkcs1-oaep", "CCCC", value["one"].where)


def test_anchors_aliases_and_merge_keys_work_as_in_the_corpus() -> None:
    text = (
        "a:\n  files: &docs\n    - ^doc/.*\n  vars: &base\n    x: 1\n    y: 2\n"
        "b:\n  files: *docs\n  vars:\n    <<: *base\n    y: 3\n"
    )
    value = load_yaml(text, SOURCE)
    assert value["b"]["files"] == ["^doc/.*"]
    assert value["b"]["vars"] == {"x": 1, "y": 3}
    # a merged key points at where it was written
    assert value["b"]["vars"].key_marks["x"] == Mark(5, 5)
    assert value["b"]["vars"].key_marks["y"] == Mark(11, 5)


def test_a_duplicate_key_is_an_error_at_the_second_key() -> None:
    _, error = read_yaml("- job:\n    name: a\n    name: b\n", SOURCE)
    assert error is not None
    assert error.where.mark == Mark(3, 5)
    assert error.message == "duplicate key 'name' (first at line 2, column 5)"


@pytest.mark.parametrize(
    ("text", "mark", "words"),
    [
        ("a: [1\n", Mark(2, 1), "did not find expected ',' or ']'"),
        ("a:\n\tb: 1\n", Mark(2, 1), "cannot start any token"),
        ("a: b: c\n", Mark(1, 5), "mapping values are not allowed"),
        ("x: !foo 1\n", Mark(1, 4), "unknown YAML tag !foo"),
        ("a: &x [*x]\n", Mark(1, 4), "recursive"),
        ("a: 1\nb: \x07\n", Mark(2, 4), "control characters are not allowed"),
        ("---\na: 1\n---\nb: 2\n", Mark(3, 1), "expected a single document"),
        ("? [1]\n: 2\n", Mark(1, 3), "a key must be a plain value"),
        ("a:\n  <<: 1\n", Mark(2, 7), "a merge key (<<) takes a mapping"),
    ],
)
def test_syntax_errors_name_the_file_line_and_column(text: str, mark: Mark, words: str) -> None:
    with pytest.raises(YamlSyntaxError) as raised:
        load_yaml(text, SOURCE)
    error = raised.value.error
    assert error.where.source == SOURCE
    assert error.where.mark == mark
    assert words in error.message
    assert "<unicode string>" not in error.render()


def test_an_empty_file_is_none() -> None:
    assert load_yaml("", SOURCE) is None
    assert load_yaml("# only a comment\n", SOURCE) is None


_YAML_PIECES = st.sampled_from(
    ["- ", "job:", " name: a", "\n", "  ", "[", "]", "{", "}", ": ", "&x ", "*x", "<<: ",
     "!override ", "!encrypted/pkcs1-oaep ", "!bad ", "'", '"', "#", "\t", "---", "? ", "1",
     "null", ",", "\x07"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_YAML_PIECES, max_size=30).map("".join))
def test_arbitrary_text_is_read_or_rejected_with_a_position(text: str) -> None:
    value, error = read_yaml(text, SOURCE)
    if error is not None:
        assert error.where.mark.line >= 1 and error.where.mark.column >= 1
        return
    parsed = parse_config(value, SOURCE, connections={"gerrit": "gerrit"})
    assert all(e.render() for e in parsed.errors)
