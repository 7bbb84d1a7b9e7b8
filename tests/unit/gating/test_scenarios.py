"""zuul.md section 3's scenarios, at the level of the gating core, with the
build counts Zuul's own tests assert."""

from __future__ import annotations

from lockgate.testing.gate_driver import GateDriver, baseline_layout


def gate() -> GateDriver:
    return GateDriver(baseline_layout())


def test_s01_parallel_changes_are_tested_on_top_of_each_other() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    c = d.add_change("org/project", "C")
    d.approve(a)
    d.approve(b)
    d.approve(c)
    assert d.running_builds() == [("project-merge", "1,1")]
    d.release("project-merge")
    assert d.running_builds() == [
        ("project-test1", "1,1"),
        ("project-test2", "1,1"),
        ("project-merge", "1,1 2,1"),
    ]
    d.release("project-merge")
    assert len(d.running_builds()) == 5
    d.release("project-merge")
    assert sorted(d.running_builds()) == sorted(
        [
            ("project-test1", "1,1"),
            ("project-test2", "1,1"),
            ("project-test1", "1,1 2,1"),
            ("project-test2", "1,1 2,1"),
            ("project-test1", "1,1 2,1 3,1"),
            ("project-test2", "1,1 2,1 3,1"),
        ]
    )
    d.hold_jobs_in_build = False
    d.release()
    assert len(d.history) == 9
    assert d.merges == ["1,1", "2,1", "3,1"]
    assert [d.reported(x) for x in (a, b, c)] == [2, 2, 2]
    assert not d.untested_merges
