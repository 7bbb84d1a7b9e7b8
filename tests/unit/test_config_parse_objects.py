"""Nodesets, secrets, semaphores, queues, pragmas, the shape of a file, and
arbitrary YAML values that must give errors, never exceptions."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.core.config.parse import parse_config
from lockgate.core.config.source import ConfigList, ConfigMap, Mark, Tagged, Where
from tests.unit.configtext import errors, only_error, parse, source


def test_a_nodeset_with_nodes_and_groups() -> None:
    (nodeset,) = parse(
        """
        - nodeset:
            name: two-node
            nodes:
              - name: controller
                label: ubuntu-noble
              - name: compute1
                label: ubuntu-noble
            groups:
              - name: subnode
                nodes: [compute1]
              - name: switch
                nodes: controller
        """
    ).nodesets
    assert nodeset.name == "two-node"
    assert [(n.names, n.label) for n in nodeset.nodes] == [
        (("controller",), "ubuntu-noble"),
        (("compute1",), "ubuntu-noble"),
    ]
    assert [(g.name, g.nodes) for g in nodeset.groups] == [
        ("subnode", ("compute1",)),
        ("switch", ("controller",)),
    ]


def test_a_nodeset_of_alternatives() -> None:
    (nodeset,) = parse(
        "- nodeset:\n    name: any\n    alternatives:\n      - fast\n"
        "      - nodes: [{name: n, label: slow}]\n"
    ).nodesets
    fast, inline = nodeset.alternatives
    assert fast == "fast"
    assert not isinstance(inline, str) and inline.nodes[0].label == "slow"


def test_nodeset_errors() -> None:
    found = errors(
        """
        - nodeset:
            name: bad
            nodes:
              - name: a
                label: x
              - name: a
                label: y
              - name: b
            groups:
              - name: g
                nodes: [c]
        """
    )
    messages = {(e.attribute, e.message) for e in found}
    assert ("nodeset.nodes.name", "duplicate node name 'a'") in messages
    assert ("nodeset.nodes.label", "is required") in messages
    assert (
        "nodeset.groups.nodes",
        "group 'g' names node 'c', which this nodeset does not have",
    ) in messages


def test_a_secret_keeps_encrypted_values_tagged() -> None:
    (secret,) = parse(
        "- secret:\n    name: creds\n    data:\n      user: bot\n"
        "      key: !encrypted/pkcs1-oaep\n        - AAAA\n",
        trusted=False,
    ).secrets
    assert secret.name == "creds"
    assert secret.data["user"] == "bot"
    assert isinstance(secret.data["key"], Tagged) and secret.data["key"].value == ["AAAA"]


def test_a_secret_needs_data() -> None:
    error = only_error("- secret:\n    name: s\n")
    assert (error.attribute, error.message) == ("secret.data", "is required")


def test_semaphores_and_queues() -> None:
    parsed = parse(
        """
        - semaphore:
            name: db
            max: 3
        - semaphore:
            name: one
        - queue:
            name: integrated
            per-branch: true
            allow-circular-dependencies: true
            dependencies-by-topic: true
        """
    )
    assert [(s.name, s.max) for s in parsed.semaphores] == [("db", 3), ("one", 1)]
    (queue,) = parsed.queues
    assert (queue.per_branch, queue.allow_circular_dependencies, queue.dependencies_by_topic) == (
        True,
        True,
        True,
    )


def test_semaphore_and_queue_errors() -> None:
    found = errors(
        """
        - semaphore:
            name: db
            max: 0
        - queue:
            name: q
            dependencies-by-topic: true
        """
    )
    assert [(e.attribute, e.message) for e in found] == [
        ("semaphore.max", "must be at least 1, not 0"),
        ("queue.dependencies-by-topic", "needs allow-circular-dependencies: true"),
    ]


def test_a_pragma_is_read_and_said_to_be_unapplied() -> None:
    parsed = parse("- pragma:\n    implied-branch-matchers: false\n")
    (warning,) = parsed.errors
    assert warning.severity == "warning" and warning.attribute == "pragma"


def test_the_shape_of_a_file() -> None:
    assert parse("").errors == []
    (not_a_list,) = errors("job:\n  name: a\n")
    assert not_a_list.message == "a configuration file is a list of objects, not a mapping"
    (unknown,) = errors("- jobb:\n    name: a\n")
    assert unknown.message == "unknown object kind 'jobb'"
    assert unknown.hint.startswith("did you mean 'job'?")
    (two,) = errors("- job:\n    name: a\n  project: {}\n")
    assert "with 2 keys" in two.message
    (scalar,) = errors("- job\n")
    assert scalar.where.mark == Mark(1, 3)
    (body,) = errors("- job: [a]\n")
    assert body.message == "must be a mapping of attributes, not a list"


# --- arbitrary input ----------------------------------------------------------

_WHERE = Where(source(), Mark(1, 1))


def _map(pairs: list[tuple[str, Any]]) -> ConfigMap:
    result = ConfigMap(_WHERE)
    for key, value in pairs:
        result[key] = value
        result.key_marks[key] = Mark(2, 3)
    return result


def _list(items: list[Any]) -> ConfigList:
    result = ConfigList(_WHERE)
    result.extend(items)
    result.item_marks.extend(Mark(3, 5) for _ in items)
    return result


_KEYS = st.sampled_from(
    [
        "name", "parent", "nodes", "label", "jobs", "trigger", "gerrit", "event", "approval",
        "manager", "run", "vars", "check", "gate", "success", "roles", "zuul", "secrets",
        "required-projects", "dependencies", "nodeset", "groups", "branches", "data", "max",
        "regex", "negate", "require", "timer", "time", "Verified", "submit", "alternatives",
    ]
) | st.text(max_size=5)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["gerrit", "comment-added", "dependent", "^(", "base", "0 * * * *"])
)


def _values() -> st.SearchStrategy[Any]:
    return st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(st.tuples(_KEYS, inner), max_size=4).map(_map)
            | st.lists(inner, max_size=4).map(_list)
            | st.builds(
                Tagged,
                st.sampled_from(["!override", "!inherit", "!encrypted/pkcs1-oaep"]),
                inner,
                st.just(_WHERE),
            )
        ),
        max_leaves=20,
    )


_KINDS = st.sampled_from(
    [
        "pipeline",
        "job",
        "project",
        "project-template",
        "nodeset",
        "secret",
        "semaphore",
        "queue",
        "pragma",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_KINDS, _values()), max_size=4), st.booleans())
def test_arbitrary_structures_give_errors_not_exceptions(
    items: list[tuple[str, Any]], trusted: bool
) -> None:
    documents = _list([_map([item]) for item in items])
    parsed = parse_config(
        documents, source(trusted), connections={"gerrit": "gerrit", "timer": "timer"}
    )
    for error in parsed.errors:
        assert error.message
        assert error.render()


@settings(max_examples=150, deadline=None)
@given(_values())
def test_arbitrary_top_level_values_give_errors_not_exceptions(value: Any) -> None:
    parsed = parse_config(value, source(), connections={})
    assert all(error.render() for error in parsed.errors)
