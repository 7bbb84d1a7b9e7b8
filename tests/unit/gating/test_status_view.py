"""What the status page reads beyond the gate's state: estimates along an
item's jobs, items hidden from a reader, and a change's place in its queue."""

from __future__ import annotations

import itertools
from typing import Any

from lockgate.core.gating.status_view import add_estimates, positions, visible_only


def _job(name: str, deps: tuple[str, ...] = (), **fields: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "name": name,
        "dependencies": list(deps),
        "result": None,
        "start_time": None,
        "elapsed_time": None,
        "estimated_time": None,
        "remaining_time": None,
    }
    job.update(fields)
    return job


def _item(ident: str, change: int, ahead: str | None, project: str = "org/p") -> dict[str, Any]:
    return {
        "id": ident,
        "live": True,
        "active": True,
        "item_ahead": ahead,
        "items_behind": [],
        "failing_reasons": [],
        "refs": [{"project": project, "change": change, "id": f"{change},1"}],
        "remaining_time": None,
        "jobs": [],
    }


def _status(*chain: dict[str, Any]) -> dict[str, Any]:
    for item, behind in itertools.pairwise(chain):
        item["items_behind"] = [behind["id"]]
    queue = {"name": "integrated", "window": 20, "heads": [list(chain)]}
    return {"pipelines": [{"name": "gate", "manager": "dependent", "change_queues": [queue]}]}


def test_an_items_remaining_time_follows_its_longest_chain_of_unfinished_jobs() -> None:
    item = _item("i1", 1, None)
    item["jobs"] = [
        _job("merge", result="SUCCESS", start_time=1, elapsed_time=60_000),
        _job("unit", ("merge",), start_time=2, elapsed_time=100_000),
        _job("docs", ("merge",)),
        _job("integration", ("unit",)),
    ]
    means = {"merge": 60, "unit": 300, "docs": 30, "integration": 600}
    status = add_estimates(_status(item), means)
    merge, unit, docs, integration = item["jobs"]
    assert (merge["remaining_time"], unit["remaining_time"]) == (0, 200_000)
    assert (docs["estimated_time"], docs["remaining_time"]) == (30, 30_000)
    # integration starts when unit ends: 200 s more of unit, then its own 600 s
    assert integration["remaining_time"] == 600_000
    assert status["pipelines"][0]["change_queues"][0]["heads"][0][0]["remaining_time"] == 800_000

    # a job never run before: no estimate, and so none for the item either
    fresh = _item("i2", 2, None)
    fresh["jobs"] = [_job("merge"), _job("brand-new", ("merge",))]
    add_estimates(_status(fresh), {"merge": 60})
    assert fresh["jobs"][1]["remaining_time"] is None and fresh["remaining_time"] is None


def test_hidden_items_leave_the_chain_and_the_others_point_past_them() -> None:
    a, b, c = _item("a", 1, None), _item("b", 2, "a", "secret/p"), _item("c", 3, "b")
    status = _status(a, b, c)
    seen = visible_only(status, lambda ref: ref["project"] != "secret/p")
    [head] = seen["pipelines"][0]["change_queues"][0]["heads"]
    assert [(i["id"], i["item_ahead"], i["items_behind"]) for i in head] == [
        ("a", None, ["c"]),
        ("c", "a", []),
    ]
    # the document it came from is left as it was
    assert status["pipelines"][0]["change_queues"][0]["heads"][0][2]["item_ahead"] == "b"

    [place] = positions("main", seen, 3)
    assert (place.pipeline, place.queue, place.change, place.position, place.length) == (
        "gate",
        "integrated",
        "3,1",
        2,
        2,
    )
    assert positions("main", seen, 2) == []
