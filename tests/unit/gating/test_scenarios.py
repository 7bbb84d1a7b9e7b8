"""zuul.md section 3's scenarios, at the level of the gating core, with the
build counts Zuul's own tests assert."""

from __future__ import annotations

from lockgate.core.gating.reports import MISSING_REQUIREMENT, NEEDS_FAILED
from lockgate.testing.gate_driver import (
    FakeChange,
    FakeLayout,
    GateDriver,
    ProjectSpec,
    baseline_layout,
    job,
)


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


def count(d: GateDriver, result: str) -> int:
    return len(d.history_of(result))


def three_approved(d: GateDriver) -> tuple[FakeChange, FakeChange, FakeChange]:
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    c = d.add_change("org/project", "C")
    for x in (a, b, c):
        d.approve(x)
    return a, b, c


def release_merges(d: GateDriver, times: int) -> None:
    for _ in range(times):
        d.release("project-merge")


def test_s02_a_failure_at_the_head_aborts_and_retests_the_change_behind_alone() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.fail("project-test1", a)
    d.approve(a)
    d.approve(b)
    assert d.running_builds() == [("project-merge", "1,1")]
    d.release("project-merge")
    assert d.running_builds() == [
        ("project-test1", "1,1"),
        ("project-test2", "1,1"),
        ("project-merge", "1,1 2,1"),
    ]
    d.release("project-merge")
    d.release("project-test1", a)
    d.hold_jobs_in_build = False
    d.release()
    assert sorted(d.history_names()) == sorted(
        [
            ("project-merge", "1,1", "SUCCESS"),
            ("project-merge", "1,1 2,1", "SUCCESS"),
            ("project-test1", "1,1", "FAILURE"),
            ("project-test1", "1,1 2,1", "ABORTED"),
            ("project-test2", "1,1 2,1", "ABORTED"),
            ("project-test2", "1,1", "SUCCESS"),
            ("project-merge", "2,1", "SUCCESS"),
            ("project-test1", "2,1", "SUCCESS"),
            ("project-test2", "2,1", "SUCCESS"),
        ]
    )
    assert a.status == "NEW" and a.approvals["Verified"] == -2
    assert d.merges == ["2,1"]
    assert (d.reported(a), d.reported(b)) == (2, 2)


def test_s03_a_failure_at_the_head_with_six_tests_running() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a, b, c = three_approved_failing(d, "project-test1", 0)
    release_merges(d, 3)
    assert len(d.running_builds()) == 6
    d.release("project-test1", a)
    assert count(d, "ABORTED") == 4
    assert sorted(d.running_builds()) == [("project-merge", "2,1"), ("project-test2", "1,1")]
    d.hold_jobs_in_build = False
    d.release()
    assert len(d.history) == 15
    assert d.merges == ["2,1", "3,1"]
    assert {r.changes for r in d.history if r.changes.endswith("3,1")} >= {"2,1 3,1"}
    assert [d.reported(x) for x in (a, b, c)] == [2, 2, 2]


def three_approved_failing(
    d: GateDriver, job_name: str, which: int
) -> tuple[FakeChange, FakeChange, FakeChange]:
    changes = [d.add_change("org/project", s) for s in "ABC"]
    d.fail(job_name, changes[which])
    for x in changes:
        d.approve(x)
    return changes[0], changes[1], changes[2]


def test_s04_a_failure_in_the_middle_retests_only_what_is_behind() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    _a, b, _c = three_approved_failing(d, "project-test1", 1)
    release_merges(d, 3)
    d.release("project-test1", b)
    assert count(d, "ABORTED") == 2
    assert sorted(d.running_builds()) == [
        ("project-merge", "1,1 3,1"),
        ("project-test1", "1,1"),
        ("project-test2", "1,1"),
        ("project-test2", "1,1 2,1"),
    ]
    d.hold_jobs_in_build = False
    d.release()
    assert len(d.history) == 12
    assert d.merges == ["1,1", "3,1"]
    assert b.status == "NEW"


def test_s05_builds_waiting_in_the_executor_queue_vanish_on_a_reset() -> None:
    d = gate()
    d.hold_jobs_in_queue = True
    a, _b, _c = three_approved_failing(d, "project-test1", 0)
    assert d.queued_builds() == [("project-merge", "1,1")]
    for _ in range(3):
        d.release_queue("project-merge")
    assert len(d.queued_builds()) == 6
    d.release_queue("project-test1", a)
    assert sorted(d.queued_builds()) == [("project-merge", "2,1"), ("project-test2", "1,1")]
    assert len(d.history) == 4
    assert count(d, "ABORTED") == 0
    d.hold_jobs_in_queue = False
    d.release_queue()
    assert len(d.history) == 11
    assert count(d, "ABORTED") == 0
    assert d.merges == ["2,1", "3,1"]


def test_s06_two_failures_at_the_head() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a, b, c = (d.add_change("org/project", s) for s in "ABC")
    d.fail("project-test1", a)
    d.fail("project-test1", b)
    for x in (a, b, c):
        d.approve(x)
    release_merges(d, 3)
    d.release("project-test1", b)  # B fails first: C is rebuilt on A + C
    d.release("project-merge")
    assert ("project-test1", "1,1 3,1") in d.running_builds()
    d.release("project-test2", a)
    d.release("project-test1", a)  # then A: B alone, and C on B + C
    release_merges(d, 2)
    running = d.running_builds()
    assert ("project-test1", "2,1") in running
    assert ("project-test1", "2,1 3,1") in running
    d.hold_jobs_in_build = False
    d.release()
    assert len(d.history) == 21
    assert d.merges == ["3,1"]
    assert [d.reported(x) for x in (a, b, c)] == [2, 2, 2]


def test_s07_the_head_is_dequeued_once_when_two_of_its_jobs_fail() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a, b, c = (d.add_change("org/project", s) for s in "ABC")
    d.fail("project-test1", a)
    d.fail("project-test2", a)
    for x in (a, b, c):
        d.approve(x)
    release_merges(d, 3)
    d.release("project-test1", a)
    assert count(d, "ABORTED") == 4
    assert len(d.running_builds()) == 2
    d.hold_jobs_in_build = False
    d.release()
    assert len(d.history) == 15
    assert d.merges == ["2,1", "3,1"]
    assert d.reported(a) == 2


def test_s08_independent_queues_run_side_by_side() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project1", "B")
    c = d.add_change("org/project2", "C")
    for x in (a, b, c):
        d.approve(x)
    assert sorted(d.running_builds()) == [("project-merge", "1,1"), ("project-merge", "2,1")]
    release_merges(d, 3)
    assert any(changes == "2,1 3,1" for _, changes in d.running_builds())
    d.hold_jobs_in_build = False
    d.release()
    assert len(d.history) == 11
    assert sorted(d.merges) == ["1,1", "2,1", "3,1"]
    assert not d.untested_merges


def test_s08_zuul_refs_hold_every_change_ahead_in_the_shared_queue() -> None:
    d = gate()
    a = d.add_change("org/project1", "A")
    b = d.add_change("org/project1", "B")
    c = d.add_change("org/project2", "C")
    e = d.add_change("org/project2", "D")
    d.hold_jobs_in_build = True
    for x in (a, b, c, e):
        d.approve(x)
    release_merges(d, 4)
    by_own = {changes.split()[-1]: changes for _, changes in d.running_builds()}
    assert by_own["1,1"] == "1,1"
    assert by_own["4,1"] == "1,1 2,1 3,1 4,1"
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["1,1", "2,1", "3,1", "4,1"]


def test_s09_a_chain_enters_only_when_its_base_is_approved() -> None:
    d = gate()
    m1 = d.add_change("org/project", "M1")
    m1.status = "MERGED"
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    c = d.add_change("org/project", "C")
    d.set_parent(a, m1)
    d.set_parent(b, a)
    d.set_parent(c, b)
    d.approve(c)
    d.approve(b)
    assert not d.history and not d.merge_requests
    d.approve(a)
    assert d.merges == ["2,1", "3,1", "4,1"]
    assert len(d.history) == 9


def test_s10_needed_changes_enqueue_ahead_and_approved_dependants_behind() -> None:
    d = gate()
    a, b, c, e4, e5, f, g = (d.add_change("org/project", s) for s in "ABCDEFG")
    d.set_parent(b, a)
    d.set_parent(c, b)
    d.set_parent(e4, c)
    d.set_parent(e5, b)
    d.set_parent(f, b)
    d.set_parent(g, a)
    for x in (a, b, e4, e5, f, g):
        d.approve(x, event=False)
    d.hold_jobs_in_build = True
    d.approve(c)
    release_merges(d, 7)
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["1,1", "2,1", "3,1", "4,1", "5,1", "6,1", "7,1"]
    assert d.history[6].changes == "1,1 2,1 3,1 4,1 5,1 6,1 7,1"


def test_s11_a_merge_conflict_skips_the_change_and_reports_it_at_the_head() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A", files=["conflict.txt"])
    b = d.add_change("org/project", "B", files=["conflict.txt"])
    c = d.add_change("org/project", "C")
    d.conflict(a, b)
    for x in (a, b, c):
        d.approve(x)
    release_merges(d, 2)
    assert ("project-merge", "1,1 3,1") in d.history_names() or any(
        changes == "1,1 3,1" for _, changes in d.running_builds()
    )
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["1,1", "3,1"]
    assert d.reported(b) == 1
    assert d.messages(b)[0].startswith("Merge Failed.")
    assert not [r for r in d.history if r.changes.endswith("2,1")]
    assert len(d.history) == 6


def test_s12_check_items_keep_their_frozen_state_after_a_conflicting_merge() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A", files=["conflict.txt"])
    b = d.add_change("org/project", "B", files=["conflict.txt"])
    c = d.add_change("org/project", "C")
    d.set_parent(c, b)
    d.conflict(a, b)
    d.approve(a)
    d.upload(b)
    d.upload(c)
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["1,1"]
    check = {r.changes for r in d.history if r.pipeline == "check"}
    assert check == {"2,1", "2,1 3,1"}
    assert (d.reported(b), d.reported(c)) == (1, 1)
    assert b.approvals["Verified"] == 1 and c.approvals["Verified"] == 1


def test_s13_a_refused_submit_is_a_merge_failure_and_resets_the_items_behind() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.refuse_submit[a.key] = "needs Verified"
    d.hold_jobs_in_build = True
    d.approve(a)
    d.approve(b)
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["2,1"]
    assert "was not merged by the code review system: needs Verified" in d.messages(a)[-1]
    assert {
        r.changes for r in d.history if r.changes.endswith("2,1") and r.result == "SUCCESS"
    } >= {"2,1"}
    assert not d.untested_merges


def test_s14_changes_needing_a_failed_change_are_not_tested() -> None:
    d = gate()
    m1 = d.add_change("org/project", "M1")
    m1.status = "MERGED"
    a, b, c = (d.add_change("org/project", s) for s in "ABC")
    d.set_parent(a, m1)
    d.set_parent(b, a)
    d.set_parent(c, b)
    d.fail("project-merge", a)
    for x in (a, b, c):
        x.approvals["Code-Review"] = 2
    d.vote(c, "Workflow", 1)
    d.vote(b, "Workflow", 1)
    d.vote(a, "Workflow", 1)
    assert len(d.history) == 1
    assert not d.merges
    assert (d.reported(a), d.reported(b)) == (2, 2)
    assert NEEDS_FAILED in d.messages(c)[-1]


def test_s15_failing_dependent_changes() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a, b, c, e4, e5 = (d.add_change("org/project", s) for s in "ABCDE")
    d.depends_on(e4, c)
    d.depends_on(c, b)
    d.fail("project-test1", b)
    for x in (a, b, c, e4, e5):
        d.approve(x)
    release_merges(d, 8)
    assert len(d.running_builds()) == 10
    d.hold_jobs_in_build = False
    d.release()
    assert sorted(d.merges) == ["1,1", "5,1"]
    assert [d.reported(x) for x in (a, b, c, e4, e5)] == [2, 2, 2, 2, 2]
    assert "depends on a change" in d.messages(c)[1]
    assert "depends on a change" in d.messages(e4)[1]
    assert len(d.history) == 18


def test_s16_a_removed_approval_dequeues_the_change() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    d.approve(a)
    d.release("project-merge")
    d.vote(a, "Workflow", 0)
    assert count(d, "ABORTED") == 2
    assert d.reported(a) == 2
    assert MISSING_REQUIREMENT in d.messages(a)[1]
    assert not d.running_builds() and not d.merges


def nonvoting_layout() -> FakeLayout:
    layout = baseline_layout()
    jobs = (job("project-merge"), job("nonvoting-test", after=["project-merge"], voting=False))
    layout.projects["org/nonvoting"] = ProjectSpec({"gate": jobs, "check": jobs})
    return layout


def test_s17_a_failing_non_voting_job_neither_blocks_the_gate_nor_check() -> None:
    d = GateDriver(nonvoting_layout())
    a = d.add_change("org/nonvoting", "A")
    d.fail("nonvoting-test", a)
    d.approve(a)
    assert d.merges == ["1,1"]
    assert "(non-voting)" in d.messages(a)[-1]
    assert [s.job.voting for s in d.started_builds if s.job.name == "nonvoting-test"] == [False]
    b = d.add_change("org/nonvoting", "B")
    d.fail("nonvoting-test", b)
    d.upload(b)
    assert b.approvals["Verified"] == 1


def test_s18_check_reports_once_and_never_merges() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    d.upload(a)
    b = d.add_change("org/project", "B")
    d.fail("project-test2", b)
    d.upload(b)
    assert (d.reported(a), d.reported(b)) == (1, 1)
    assert (a.approvals["Verified"], b.approvals["Verified"]) == (1, -1)
    assert not d.merges


def chain_and_d(d: GateDriver) -> tuple[FakeChange, FakeChange, FakeChange, FakeChange]:
    m = d.add_change("org/project", "M")
    m.status = "MERGED"
    a, b, c, e = (d.add_change("org/project", s) for s in "ABCD")
    d.set_parent(a, m)
    d.set_parent(b, a)
    d.set_parent(c, b)
    d.hold_jobs_in_build = True
    for x in (a, b, c, e):
        d.approve(x)
    return a, b, c, e


def test_s19_a_new_patchset_dequeues_the_old_one() -> None:
    d = gate()
    a, b, c, e = chain_and_d(d)
    d.new_patchset(b)
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["2,1", "5,1"]
    assert [d.reported(x) for x in (a, b, c, e)] == [2, 2, 2, 2]
    assert NEEDS_FAILED in d.messages(c)[-1]
    assert {r.changes for r in d.history if r.pipeline == "check"} == {"2,1 3,2"}
    assert len(d.history) == 9


def test_s20_a_new_patchset_on_the_head() -> None:
    d = gate()
    a, b, c, e = chain_and_d(d)
    d.new_patchset(a)
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["5,1"]
    assert ("project-merge", "2,1", "ABORTED") in d.history_names()
    assert [d.reported(x) for x in (a, b, c, e)] == [2, 2, 2, 2]
    assert len(d.history) == 7


def test_a_change_needing_a_change_that_stops_failing_is_tested_again() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a, b, c = (d.add_change("org/project", s) for s in "ABC")
    d.set_parent(c, b)
    d.fail("project-test1", a)
    d.give("project-test1", b, "FAILURE")  # only on top of A
    for x in (a, b, c):
        d.approve(x)
    release_merges(d, 3)
    d.release("project-test1", b)  # B fails: C, which needs B, stops
    assert not [name for name, changes in d.running_builds() if changes.endswith("3,1")]
    d.release("project-test1", a)  # A fails: B starts again alone, and C behind it
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["2,1", "3,1"]
    assert not d.untested_merges
