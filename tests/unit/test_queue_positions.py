"""Where a change stands in the queues of Zuul's status JSON, as its page shows it."""

from __future__ import annotations

from collections.abc import Sequence

from lockgate.services.change_page import positions_in_status

Job = dict[str, object]


def test_the_change_s_place_in_each_queue_of_the_status() -> None:
    def item(number: int, *, live: bool = True, jobs: Sequence[Job] = ()) -> dict[str, object]:
        return {"refs": [{"change": number}], "live": live, "jobs": list(jobs)}

    status = {
        "pipelines": [
            {
                "name": "check",
                "change_queues": [{"name": "", "heads": [[item(7, live=False), item(8)]]}],
            },
            {
                "name": "gate",
                "change_queues": [
                    {
                        "name": "integrated",
                        "heads": [
                            [
                                item(5),
                                item(
                                    7,
                                    jobs=[
                                        {"result": "SUCCESS", "voting": True},
                                        {"result": "FAILURE", "voting": True},
                                        {"result": None, "voting": True},
                                    ],
                                ),
                                item(9),
                            ]
                        ],
                    }
                ],
            },
        ]
    }
    [gate] = positions_in_status("main", status, 7)
    assert (gate.pipeline, gate.queue, gate.position, gate.length) == ("gate", "integrated", 2, 3)
    assert (gate.jobs, gate.jobs_done, gate.failing) == (3, 2, True)
