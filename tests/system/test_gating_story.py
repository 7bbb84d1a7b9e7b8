"""The gate, through the whole system: real review server, real event log,
real speculative merges, the scheduler, and the fake executor.

"Test the result of the change, not the change": every approved change is
tested on top of the changes ahead of it, and merges only if that passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.testing.gate_harness import GateHarness
from lockgate.testing.gate_layouts import PIPELINES, PROJECTS


@pytest.fixture
def gate(tmp_path: Path, database_url: str) -> Iterator[GateHarness]:
    harness = GateHarness.create(
        tmp_path / "site", layout=PIPELINES, projects=PROJECTS, database_url=database_url
    )
    yield harness
    harness.close()


def test_a_new_change_is_checked_and_gets_verified_plus_one(gate: GateHarness) -> None:
    a = gate.change("org/project", "A")
    gate.settle()
    assert [b.name for b in gate.history()] == ["project-merge", "project-test1", "project-test2"]
    assert all(b.result == "SUCCESS" for b in gate.history())
    [report] = gate.reports(a)
    assert report.startswith("Patch Set 1: Verified+1\n\nBuild succeeded.")
    assert "- project-test1 https://logs.example/" in report
    assert gate.vote(a, "Verified") == 1
    assert gate.status(a) == "NEW"


def test_three_approved_changes_are_tested_on_each_other_and_merge_in_order(
    gate: GateHarness,
) -> None:
    a = gate.change("org/project", "A")
    b = gate.change("org/project", "B")
    c = gate.change("org/project", "C")
    gate.settle()  # the check pipeline's builds
    checked = len(gate.history())
    gate.executor.hold_jobs_in_build = True
    for change in (a, b, c):
        gate.approve(change)
    gate.settle()
    # project-merge holds the changes behind until it succeeds
    assert [x.name for x in gate.running()] == ["project-merge"]
    gate.executor.release("project-merge")
    gate.settle()
    assert len(gate.running()) == 3
    gate.executor.release("project-merge")
    gate.settle()
    assert len(gate.running()) == 5
    gate.executor.release("project-merge")
    gate.settle()
    assert sorted(x.changes for x in gate.running()) == [
        "1,1",
        "1,1",
        "1,1 2,1",
        "1,1 2,1",
        "1,1 2,1 3,1",
        "1,1 2,1 3,1",
    ]
    gate.executor.hold_jobs_in_build = False
    gate.executor.release()
    gate.settle()
    assert len(gate.history()) - checked == 9
    assert [gate.status(x) for x in (a, b, c)] == ["MERGED"] * 3
    for change in (a, b, c):
        gate_reports = [r for r in gate.reports(change) if "gate" in r]
        assert len(gate_reports) == 2  # start, then success
        assert "Build succeeded (gate pipeline)." in gate_reports[-1]


def test_a_failure_at_the_head_lets_the_change_behind_merge_without_it(gate: GateHarness) -> None:
    a = gate.change("org/project", "A")
    b = gate.change("org/project", "B")
    gate.settle()
    gate.executor.fail("project-test1", a.key)
    gate.approve(a)
    gate.approve(b)
    gate.settle()
    assert gate.status(a) == "NEW"
    assert gate.status(b) == "MERGED"
    assert gate.vote(a, "Verified") == -2
    failure = gate.reports(a)[-1]
    assert "Build failed (gate pipeline)." in failure
    assert "- project-test1 https://logs.example/" in failure and ": FAILURE in" in failure
    # B merged on a state without A
    last_b = [x for x in gate.history("project-test1") if x.has_change(b.key)][-1]
    assert last_b.changes == b.key


def test_a_broken_zuul_yaml_in_a_change_is_reported_on_it_with_file_and_line(
    gate: GateHarness,
) -> None:
    broken = gate.change(
        "org/project",
        "Broken config",
        {".zuul.yaml": "- job:\n    name: new-job\n    parrent: base\n"},
    )
    fine = gate.change("org/project", "Fine")
    gate.settle()
    [report] = gate.reports(broken)
    assert "Verified-1" in report
    assert "org/project/.zuul.yaml@master:3:5" in report and "parrent" in report
    assert gate.vote(fine, "Verified") == 1


def test_a_change_that_fixes_its_own_jobs_runs_under_the_config_it_proposes(
    gate: GateHarness,
) -> None:
    change = gate.change(
        "org/project",
        "Add a job",
        {
            ".zuul.yaml": (
                "- job:\n    name: project-lint\n"
                "- project:\n    check:\n      jobs:\n        - project-lint\n"
            )
        },
    )
    gate.settle()
    assert "project-lint" in [b.name for b in gate.history()]
    assert gate.vote(change, "Verified") == 1


def test_cross_project_depends_on_gates_both_changes_together(gate: GateHarness) -> None:
    b = gate.change("org/project2", "B")
    a = gate.change("org/project1", "A", depends_on=[b])
    gate.settle()
    gate.approve(b)
    gate.approve(a)
    gate.settle()
    assert gate.status(b) == "MERGED"
    assert gate.status(a) == "MERGED"
    integration = [x for x in gate.history("project1-project2-integration")][-1]
    assert integration.changes == f"{b.key} {a.key}"


def test_recheck_runs_the_check_jobs_again(gate: GateHarness) -> None:
    a = gate.change("org/project", "A")
    gate.settle()
    first = len(gate.history())
    gate.comment(a, "recheck")
    gate.settle()
    assert len(gate.history()) == 2 * first
    assert len(gate.reports(a)) == 2


def test_a_config_project_change_is_only_checked_and_applies_after_it_merges(
    gate: GateHarness,
) -> None:
    added = (
        "- job:\n    name: project-lint\n"
        "- project:\n    name: org/project\n    check:\n      jobs:\n        - project-lint\n"
    )
    config = gate.change("project-config", "Add a lint job", {"zuul.d/lint.yaml": added})
    probe = gate.change("org/project", "Probe", depends_on=[config])
    gate.settle()
    # not applied speculatively: the probe that depends on it runs the old jobs
    probe_jobs = {b.name for b in gate.history() if b.has_change(probe.key)}
    assert probe_jobs == {"project-merge", "project-test1", "project-test2"}

    gate.review(config, {"Code-Review": 2, "Workflow": 1, "Verified": 2})
    gate.submit(config)
    gate.settle()  # the merge's events reload the layout
    after = gate.change("org/project", "After")
    gate.settle()
    assert "project-lint" in {b.name for b in gate.history() if b.has_change(after.key)}


BROKEN = {
    "a YAML syntax error": ("- job:\n    name: [broken\n", ".zuul.yaml@master:3:1", "YAML"),
    "an unknown attribute": ("- job:\n    name: x\n    parrent: base\n", ":3:5", "parrent"),
    "an undefined parent": ("- job:\n    name: x\n    parent: nowhere\n", ":3:5", "nowhere"),
    "a dependency cycle": (
        "- job:\n    name: one\n- job:\n    name: two\n"
        "- project:\n    check:\n      jobs:\n"
        "        - one:\n            dependencies: two\n"
        "        - two:\n            dependencies: one\n",
        ".zuul.yaml",
        "one",
    ),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_config_in_a_change_is_reported_on_it_and_disturbs_nothing_else(
    gate: GateHarness, kind: str
) -> None:
    text, where, names = BROKEN[kind]
    broken = gate.change("org/project", "Broken", {".zuul.yaml": text})
    fine = gate.change("org/project1", "Fine")
    gate.settle()
    [report] = gate.reports(broken)
    assert "Verified-1" in report
    assert where in report and names in report, report
    assert not [b for b in gate.history() if b.has_change(broken.key)]
    assert gate.vote(fine, "Verified") == 1
    # the tenant's own layout is untouched
    assert gate.services.gating.layouts.layout("main").errors == []  # type: ignore[union-attr]


def test_a_depends_on_a_change_that_does_not_exist_is_reported(gate: GateHarness) -> None:
    url = f"{gate.services.public_url}c/org/project/+/999"
    lonely = gate.change("org/project", "Lonely", body=f"Depends-On: {url}")
    gate.settle()
    [report] = gate.reports(lonely)
    assert "999" in report
    assert not gate.history()


def test_cross_project_depends_on_in_check_tests_both_changes_together(
    gate: GateHarness,
) -> None:
    b = gate.change("org/project2", "B")
    a = gate.change("org/project1", "A", depends_on=[b])
    gate.settle()
    on_a = [x for x in gate.history() if x.changes.endswith(a.key)]
    assert on_a and all(x.changes == f"{b.key} {a.key}" for x in on_a)
    assert gate.vote(a, "Verified") == 1
    assert gate.status(a) == "NEW" and gate.status(b) == "NEW"


def test_an_event_the_gating_core_fails_on_is_skipped_and_the_gate_goes_on(
    gate: GateHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lockgate.core.gating.events import TriggerEvent
    from lockgate.core.gating.gate import TenantGate

    handle = TenantGate.handle

    def fragile(self: TenantGate, event: object, now: float) -> list[object]:
        if isinstance(event, TriggerEvent) and "poison" in event.comment:
            raise RuntimeError("a bug in the core")
        return handle(self, event, now)  # type: ignore[arg-type]

    monkeypatch.setattr(TenantGate, "handle", fragile)
    a = gate.change("org/project", "A")
    gate.comment(a, "poison")
    b = gate.change("org/project", "B")
    gate.settle()
    assert gate.vote(a, "Verified") == 1
    assert gate.vote(b, "Verified") == 1
    assert gate.scheduler.settled()


def test_a_project_created_later_is_gated_by_the_config_its_first_change_proposes(
    gate: GateHarness,
) -> None:
    gate.settle()  # the tenant's layout is loaded before the project exists
    gate.services.projects.create("org/later", create_empty_commit=True)
    first = gate.change(
        "org/later",
        "Add jobs",
        {
            ".zuul.yaml": (
                "- job:\n    name: later-lint\n"
                "- project:\n    check:\n      jobs:\n        - later-lint\n"
            )
        },
    )
    gate.settle()
    assert [b.name for b in gate.history() if b.has_change(first.key)] == ["later-lint"]
    assert gate.vote(first, "Verified") == 1
