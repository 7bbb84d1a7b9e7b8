"""What jobs return with zuul_return: merged call after call as Zuul merges
it, checked with reasons, artifacts resolved against the log URL, and given to
the jobs after them below their own vars."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lockgate.core.builds.returns import (
    ReturnedDataError,
    artifacts_of,
    check_returned,
    merge_returned,
    resolve_artifacts,
)
from lockgate.core.builds.variables import BuildPaths, inventory, zuul_variables
from lockgate.core.config.frozen import FrozenJob
from tests.unit.test_build_variables import build, change


def test_calls_merge_maps_replace_values_and_append_artifacts_and_warnings() -> None:
    first = {"a": {"x": 1, "y": [1]}, "zuul": {"artifacts": [{"name": "1", "url": "u1"}]}}
    second = {
        "a": {"y": [2]},
        "b": 2,
        "zuul": {"artifacts": [{"name": "2", "url": "u2"}], "warnings": ["w"]},
    }
    merged = merge_returned(first, second)
    assert merged == {
        "a": {"x": 1, "y": [2]},
        "b": 2,
        "zuul": {
            "artifacts": [{"name": "1", "url": "u1"}, {"name": "2", "url": "u2"}],
            "warnings": ["w"],
        },
    }
    assert first["zuul"]["artifacts"] == [{"name": "1", "url": "u1"}]  # neither is changed


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([1], "needs `data` to be a mapping, not list"),
        ({"zuul": "x"}, "data.zuul must be a mapping, not str"),
        (
            {"zuul": {"artifacts": {"name": "a"}}},
            "must be a list of {name, url, metadata}, not dict",
        ),
        ({"zuul": {"artifacts": [{"name": "a"}]}}, "artifact 1 of data.zuul.artifacts needs a url"),
        (
            {"zuul": {"artifacts": [{"name": "a", "url": "u", "metadata": []}]}},
            "metadata must be a mapping",
        ),
        (
            {"zuul": {"artifacts": [{"name": "a", "url": "u", "link": "u"}]}},
            "has unknown keys link",
        ),
    ],
)
def test_returned_data_in_the_wrong_shape_is_refused_with_what_to_fix(
    data: object, reason: str
) -> None:
    with pytest.raises(ReturnedDataError, match=reason.replace("{", r"\{").replace("}", r"\}")):
        check_returned(data)


def test_relative_artifact_urls_join_the_log_url_and_absolute_ones_stay() -> None:
    data = {
        "zuul": {
            "artifacts": [
                {"name": "docs", "url": "docs/index.html", "metadata": {"type": "docs"}},
                {"name": "top", "url": "/top.txt"},
                {"name": "wheel", "url": "https://pypi.test/app.whl"},
            ]
        }
    }
    resolved = resolve_artifacts(check_returned(data), "http://logs.test/1/1/check/docs/abc1234")
    assert [(a.name, a.url, dict(a.metadata)) for a in artifacts_of(resolved)] == [
        ("docs", "http://logs.test/1/1/check/docs/abc1234/docs/index.html", {"type": "docs"}),
        ("top", "http://logs.test/top.txt", {}),
        ("wheel", "https://pypi.test/app.whl", {}),
    ]


def test_parent_data_ranks_below_the_jobs_vars_and_parent_artifacts_are_zuul_artifacts() -> None:
    job = FrozenJob("upload", vars={"version": "job", "own": 1})
    wheel = {"name": "wheel", "url": "https://logs.test/app.whl", "metadata": {}, "job": "build"}
    action = replace(
        build(job, change(4)), parent_data={"version": "parent", "image": "a"}, artifacts=(wheel,)
    )
    assert inventory(action, [])["all"]["vars"] == {"version": "job", "own": 1, "image": "a"}
    zuul = zuul_variables(
        action, host="h", paths=BuildPaths("/w", "/w/src", "/w/logs"), projects=[]
    )
    assert zuul["artifacts"] == [wheel]
