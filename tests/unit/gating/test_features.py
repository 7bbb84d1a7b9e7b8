"""The gate's features beyond section 3's scenarios: cycles, promote,
semaphores, retries, node failures, fail-fast, skipped jobs, the other
managers, the window, reconfiguration, admin actions and restarts."""

from __future__ import annotations

from dataclasses import replace

from lockgate.core.config.objects import PipelineDef, TriggerDef
from lockgate.core.config.source import NOWHERE, ConfigError, Mark, Source, Where
from lockgate.core.gating.codec import to_dict
from lockgate.core.gating.events import Dequeue, Enqueue, Promote, Reconfigured
from lockgate.core.gating.layout_view import QueueSpec
from lockgate.core.gating.reports import BAD_CONFIG_AHEAD, CYCLE_FORBIDDEN
from lockgate.testing.gate_driver import (
    CONNECTION,
    FakeChange,
    FakeLayout,
    GateDriver,
    ProjectSpec,
    baseline_layout,
    check_pipeline,
    job,
    standard_jobs,
)


def gate() -> GateDriver:
    return GateDriver(baseline_layout())


def test_a_dependency_cycle_is_reported_where_the_queue_forbids_cycles() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.depends_on(a, b)
    d.depends_on(b, a)
    d.approve(a)
    d.approve(b)
    assert not d.history and not d.merges
    expected = CYCLE_FORBIDDEN.format(project="org/project")
    assert any(expected in m for m in d.messages(b))


def cycle_layout() -> FakeLayout:
    layout = baseline_layout()
    layout.queues["integrated"] = QueueSpec("integrated", allow_circular_dependencies=True)
    return layout


def test_a_cycle_is_one_item_that_merges_every_change_where_the_queue_allows_it() -> None:
    d = GateDriver(cycle_layout())
    a = d.add_change("org/project1", "A")
    b = d.add_change("org/project2", "B")
    d.depends_on(a, b)
    d.depends_on(b, a)
    d.approve(a)
    assert not d.history  # B is not approved yet: the cycle cannot enter
    d.approve(b)
    assert {r.changes for r in d.history} == {"1,1 2,1"}
    assert len(d.history) == 4  # the jobs both changes run, once each
    assert sorted(d.merges) == ["1,1", "2,1"]
    assert (d.reported(a), d.reported(b)) == (2, 2)
    assert not d.untested_merges


def test_a_failing_cycle_fails_every_change_in_it() -> None:
    d = GateDriver(cycle_layout())
    a = d.add_change("org/project1", "A")
    b = d.add_change("org/project2", "B")
    d.depends_on(a, b)
    d.depends_on(b, a)
    d.fail("project-test1", b)
    d.approve(a)
    d.approve(b)
    assert not d.merges
    assert all("part of a dependency cycle that failed" in d.messages(x)[-1] for x in (a, b))


def test_promote_moves_a_change_to_the_head_and_restarts_the_others_behind_it() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a, b, c = (d.add_change("org/project", s) for s in "ABC")
    for x in (a, b, c):
        d.approve(x)
    d.release("project-merge")
    d.emit(Promote("gate", ("3,1",)))
    assert ("project-test1", "1,1", "ABORTED") in d.history_names()
    assert d.running_builds() == [("project-merge", "3,1")]
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["3,1", "1,1", "2,1"]
    assert not d.untested_merges


def semaphore_layout() -> FakeLayout:
    deploy = job("deploy", semaphores=("prod",))
    return FakeLayout(
        pipelines={"check": check_pipeline()},
        projects={"org/app": ProjectSpec({"check": (deploy, job("unit"))})},
        semaphores={"prod": 1},
    )


def test_a_semaphore_lets_one_build_hold_it_at_a_time() -> None:
    d = GateDriver(semaphore_layout())
    d.hold_jobs_in_build = True
    a = d.add_change("org/app", "A")
    b = d.add_change("org/app", "B")
    d.upload(a)
    d.upload(b)
    assert sorted(d.running_builds()) == [("deploy", "1,1"), ("unit", "1,1"), ("unit", "2,1")]
    jobs = d.gate.status(d.now)["pipelines"][0]["change_queues"][1]["heads"][0][0]["jobs"]
    assert {j["name"]: j["waiting_status"] for j in jobs}["deploy"] == "semaphores: prod"
    d.release("deploy", a)
    assert ("deploy", "2,1") in d.running_builds()
    d.hold_jobs_in_build = False
    d.release()
    assert (d.reported(a), d.reported(b)) == (1, 1)


def test_a_retried_job_runs_again_until_it_passes_within_its_attempts() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    d.give("project-test1", a, "RETRY", "RETRY", "RETRY")
    d.approve(a)
    tries = [(r.attempt, r.result) for r in d.history if r.name == "project-test1"]
    assert tries == [(1, "RETRY"), (2, "RETRY"), (3, "RETRY"), (4, "SUCCESS")]
    assert d.merges == ["1,1"]


def test_a_job_out_of_attempts_is_retry_limit_and_fails_the_change() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    d.give("project-test2", a, "RETRY", "RETRY", "RETRY")
    d.approve(a)
    assert [r.attempt for r in d.history if r.name == "project-test2"] == [1, 2, 3]
    assert not d.merges
    assert "- project-test2 https://logs.example/" in d.messages(a)[-1]
    assert ": RETRY_LIMIT" in d.messages(a)[-1]


def test_node_failure_fails_the_change() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    d.give("project-test2", a, "NODE_FAILURE")
    d.approve(a)
    assert not d.merges
    assert ": NODE_FAILURE" in d.messages(a)[-1]
    assert a.approvals["Verified"] == -2


def test_jobs_after_a_failed_dependency_are_skipped() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    d.fail("project-merge", a)
    d.approve(a)
    assert len(d.history) == 1
    message = d.messages(a)[-1]
    assert "- project-test1 : SKIPPED (Skipped due to failed job project-merge)" in message
    assert "- project-test2 : SKIPPED (Skipped due to failed job project-merge)" in message


def test_fail_fast_aborts_the_other_builds_at_the_first_voting_failure() -> None:
    jobs = (job("quick"), job("slow"), job("after-slow", after=["slow"]))
    layout = FakeLayout(
        pipelines={"check": check_pipeline()},
        projects={"org/app": ProjectSpec({"check": jobs}, fail_fast=True)},
    )
    d = GateDriver(layout)
    d.hold_jobs_in_build = True
    a = d.add_change("org/app", "A")
    d.fail("quick", a)
    d.upload(a)
    d.release("quick")
    assert ("slow", "1,1", "ABORTED") in d.history_names()
    assert d.reported(a) == 1 and a.approvals["Verified"] == -1
    assert "after-slow : SKIPPED (Skipped due to fail-fast)" in d.messages(a)[0]


def test_a_voting_job_skipped_after_a_non_voting_failure_does_not_fail_the_change() -> None:
    # Zuul ignores skipped jobs unless every job was skipped
    jobs = (job("setup", voting=False), job("test", after=["setup"]))
    layout = FakeLayout(
        pipelines={"check": check_pipeline()},
        projects={"org/app": ProjectSpec({"check": jobs})},
    )
    d = GateDriver(layout)
    a = d.add_change("org/app", "A")
    d.fail("setup", a)
    d.upload(a)
    assert "- test : SKIPPED (Skipped due to failed job setup)" in d.messages(a)[0]
    assert a.approvals["Verified"] == 1


def ref_pipeline(name: str, manager: str) -> PipelineDef:
    return PipelineDef(
        name=name,
        manager=manager,
        triggers=(TriggerDef(CONNECTION, "gerrit", events=("ref-updated",)),),
    )


def test_supercedent_builds_only_the_newest_waiting_ref() -> None:
    layout = FakeLayout(
        pipelines={"post": ref_pipeline("post", "supercedent")},
        projects={"org/app": ProjectSpec({"post": (job("publish"),)})},
    )
    d = GateDriver(layout)
    d.hold_jobs_in_build = True
    for rev in ("a" * 40, "b" * 40, "c" * 40):
        d.ref_updated("org/app", newrev=rev)
    assert len(d.running_builds()) == 1
    d.hold_jobs_in_build = False
    d.release()
    assert len(d.history) == 2  # the first (running) and the newest; the middle one dropped
    assert not d.gate.state.items


def test_serial_runs_one_item_of_a_queue_at_a_time() -> None:
    layout = FakeLayout(
        pipelines={"deploy": ref_pipeline("deploy", "serial")},
        projects={"org/app": ProjectSpec({"deploy": (job("deploy-prod"),)})},
    )
    d = GateDriver(layout)
    d.hold_jobs_in_build = True
    d.ref_updated("org/app", newrev="a" * 40)
    d.ref_updated("org/app", newrev="b" * 40)
    assert len(d.running_builds()) == 1
    d.release()
    assert len(d.running_builds()) == 1
    d.release()
    assert len(d.history) == 2 and not d.gate.state.items


def test_the_window_grows_on_merges_and_shrinks_on_failures() -> None:
    d = GateDriver(baseline_layout(window=2, window_floor=1))
    d.hold_jobs_in_build = True
    changes = [d.add_change("org/project", s) for s in "ABCD"]
    for x in changes:
        d.approve(x)
    queue = next(iter(d.gate.state.queues.values()))
    assert [i.active for i in d.gate.state.queue_items(queue.id)] == [True, True, False, False]
    assert len(d.merge_requests) == 2  # only the items inside the window are prepared
    d.hold_jobs_in_build = False
    d.release("project-merge")
    d.release()
    assert d.merges == ["1,1", "2,1", "3,1", "4,1"]
    assert queue.window == 6
    d.fail("project-test1", "5,1")
    e = d.add_change("org/project", "E")
    d.approve(e)
    assert queue.window == 3


def test_reconfiguration_refreezes_items_that_have_not_started() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.approve(a)
    d.approve(b)
    layout = baseline_layout()
    layout.name = "layout-2"
    layout.projects["org/project"].jobs["gate"] = (*standard_jobs(), job("project-lint"))
    d.layout = layout
    d.emit(Reconfigured(layout))
    d.hold_jobs_in_build = False
    d.release()
    ran = {(r.name, r.changes) for r in d.history}
    assert ("project-lint", "1,1 2,1") in ran
    assert ("project-lint", "1,1") not in ran  # A had started: its jobs stay as they were
    assert d.merges == ["1,1", "2,1"]


def test_a_pipeline_removed_by_reconfiguration_drops_its_items_and_builds() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    d.upload(a)
    assert d.running_builds()
    layout = baseline_layout()
    del layout.pipelines["check"]
    d.layout = layout
    d.emit(Reconfigured(layout))
    assert not d.running_builds()
    assert ("project-merge", "1,1", "ABORTED") in d.history_names()
    assert not d.gate.state.items


def test_admin_dequeue_cancels_and_resets_the_items_behind() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.approve(a)
    d.approve(b)
    d.release("project-merge")
    d.emit(Dequeue("gate", "1,1"))
    assert d.running_builds() == [("project-merge", "2,1")]
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["2,1"]
    assert a.status == "NEW"


def test_admin_enqueue_bypasses_the_pipeline_requirements_but_not_mergeability() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    d.emit(Enqueue("gate", a.snapshot(d.now)))
    assert not d.history  # not submittable: the gate still refuses it
    b = d.add_change("org/project", "B")
    d.emit(Enqueue("check", b.snapshot(d.now)))
    assert b.approvals["Verified"] == 1


def test_gate_supercedes_check() -> None:
    d = GateDriver(baseline_layout(supercedes=("check",)))
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    d.upload(a)
    d.approve(a)
    assert ("project-merge", "1,1", "ABORTED") in d.history_names()
    assert [s.pipeline for s in d.started_builds] == ["check", "gate"]


def test_a_change_in_another_queue_cannot_be_needed_in_the_gate() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project1", "B")
    d.depends_on(b, a)
    d.approve(a, event=False)
    d.approve(b)
    assert not d.history
    assert "does not share a change queue" in d.messages(b)[-1]


def test_a_depends_on_to_an_unknown_change_is_reported() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    snapshot = replace(a.snapshot(d.now), unresolved_needs=("https://elsewhere/c/9",))
    d.emit(replace(d.change_event(a, "patchset-created"), change=snapshot))
    assert "could not be found: https://elsewhere/c/9" in d.messages(a)[-1]


def test_max_dependencies_refuses_a_long_chain() -> None:
    layout = baseline_layout()
    layout.max_deps = 1
    d = GateDriver(layout)
    a, b, c = (d.add_change("org/project", s) for s in "ABC")
    d.set_parent(b, a)
    d.set_parent(c, b)
    d.upload(c)
    assert not d.history
    assert "more than the tenant's max-dependencies of 1" in d.messages(c)[-1]


def test_abandoning_a_change_removes_it_and_resets_the_items_behind() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.approve(a)
    d.approve(b)
    d.release("project-merge")
    d.abandon(a)
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["2,1"]
    assert ("project-test1", "1,1", "ABORTED") in d.history_names()


def test_a_config_error_is_reported_with_its_file_and_line() -> None:
    d = gate()
    a = d.add_change("org/project", "A", files=["zuul.yaml"])
    where = Where(Source("org/project", "master", "zuul.yaml", False), Mark(3, 5))
    d.config_errors[a.key] = (ConfigError(where, "undefined parent", "job.parent", 'job "x"'),)
    b = d.add_change("org/project", "B")
    d.approve(a)
    d.approve(b)
    assert d.merge_requests[0].config_changes
    assert "org/project/zuul.yaml@master:3:5" in d.messages(a)[-1]
    assert d.merges == ["2,1"]
    assert NOWHERE is not None


def test_a_project_that_is_not_in_a_pipeline_does_not_enter_it() -> None:
    d = gate()
    a = d.add_change("org/unknown", "A")
    d.upload(a)
    d.approve(a)
    assert not d.merge_requests and not d.history and not d.merges
    assert not d.reports_for(a)
    assert not d.gate.state.items and not d.gate.state.buildsets


def test_a_change_that_edits_configuration_enters_a_pipeline_its_project_is_not_in() -> None:
    d = gate()
    a = d.add_change("org/unknown", "A", files=["zuul.yaml"])
    proposed = baseline_layout()
    proposed.name = "layout-1+1,1"
    proposed.projects["org/unknown"] = ProjectSpec({"check": (job("proposed-job"),)})
    d.dynamic_layouts[a.key] = proposed
    d.upload(a)
    assert d.merge_requests[0].config_changes
    assert ("proposed-job", "1,1", "SUCCESS") in d.history_names()


def test_a_ref_of_a_project_that_is_not_in_a_pipeline_does_not_enter_it() -> None:
    layout = FakeLayout(
        pipelines={"post": ref_pipeline("post", "independent")},
        projects={"org/app": ProjectSpec({"post": (job("publish"),)})},
    )
    d = GateDriver(layout)
    d.ref_updated("org/other", newrev="a" * 40)
    assert not d.merge_requests and not d.history
    d.ref_updated("org/app", newrev="b" * 40)
    assert [name for name, _, _ in d.history_names()] == ["publish"]


def test_build_requests_carry_precedence_and_relative_priority() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.upload(a)
    d.upload(b)
    d.approve(a)
    starts = [(s.pipeline, s.precedence, s.relative_priority) for s in d.started_builds]
    assert starts == [("check", 1, 0), ("check", 1, 1), ("gate", 0, 0)]


def test_a_restart_mid_gate_resumes_and_merges_each_change_once() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a, b, c = (d.add_change("org/project", s) for s in "ABC")
    for x in (a, b, c):
        d.approve(x)
    d.release("project-merge")
    d.release("project-merge")
    running = len(d.running_builds())
    d.restart()
    assert len(d.history_of("LOST")) == running
    assert len(d.running_builds()) == running  # re-run as new builds
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["1,1", "2,1", "3,1"]
    assert not d.double_merges and not d.untested_merges
    assert [d.reported(x) for x in (a, b, c)] == [2, 2, 2]


def test_a_restart_between_submit_and_its_answer_does_not_merge_twice() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.lose_report_outcomes = True
    d.approve(a)
    d.approve(b)
    assert d.merges == ["1,1"]  # submitted, but the gate never heard
    d.lose_report_outcomes = False
    d.restart()
    assert d.merges == ["1,1", "2,1"]
    assert not d.double_merges


def test_status_shows_queues_heads_items_and_jobs() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.approve(a)
    d.approve(b)
    status = d.gate.status(d.now)
    gate_status = next(p for p in status["pipelines"] if p["name"] == "gate")
    assert gate_status["manager"] == "dependent"
    (queue,) = gate_status["change_queues"]
    assert queue["name"] == "org/project" and queue["window"] == 20
    (chain,) = queue["heads"]
    assert [i["refs"][0]["id"] for i in chain] == ["1,1", "2,1"]
    head = chain[0]
    assert head["active"] and head["live"] and head["item_ahead"] is None
    assert head["items_behind"] == [chain[1]["id"]]
    merge = next(j for j in head["jobs"] if j["name"] == "project-merge")
    assert merge["uuid"] and merge["url"].startswith("https://logs.example/")
    assert merge["result"] is None and merge["start_time"] is not None
    assert not merge["queued"] and merge["tries"] == 1
    test1 = next(j for j in head["jobs"] if j["name"] == "project-test1")
    assert test1["dependencies"] == ["project-merge"] and test1["uuid"] is None


def test_recheck_runs_check_again() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    d.give("project-test1", a, "FAILURE")
    d.upload(a)
    assert a.approvals["Verified"] == -1
    d.recheck(a)
    assert a.approvals["Verified"] == 1
    assert d.reported(a) == 2


def test_check_tests_a_change_on_the_changes_it_needs_from_another_project() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project1", "A")
    b = d.add_change("org/project2", "B")
    d.depends_on(b, a)
    d.upload(b)
    status = d.gate.status(d.now)
    check = next(p for p in status["pipelines"] if p["name"] == "check")
    (chain,) = check["change_queues"][0]["heads"]
    assert [(i["refs"][0]["id"], i["live"]) for i in chain] == [("1,1", False), ("2,1", True)]
    assert chain[0]["jobs"] == []
    d.hold_jobs_in_build = False
    d.release()
    assert {r.changes for r in d.history} == {"1,1 2,1"}
    assert (d.reported(a), d.reported(b)) == (0, 1)
    assert not d.gate.state.items


def test_a_change_that_edits_configuration_runs_the_jobs_it_proposes() -> None:
    d = gate()
    a = d.add_change("org/project", "A", files=[".zuul.d/jobs.yaml"])
    proposed = baseline_layout()
    proposed.name = "layout-1+1,1"
    proposed.projects["org/project"].jobs["gate"] = (*standard_jobs(), job("proposed-job"))
    d.dynamic_layouts[a.key] = proposed
    d.approve(a)
    assert d.merge_requests[0].config_changes
    assert ("proposed-job", "1,1", "SUCCESS") in d.history_names()
    assert d.merges == ["1,1"]


def test_a_dequeued_change_that_had_started_hears_so_from_the_dequeue_reporters() -> None:
    layout = baseline_layout()
    gate_def = layout.pipelines["gate"]
    reporters = {**gate_def.reporters, "dequeue": gate_def.reporters["failure"]}
    layout.pipelines["gate"] = replace(gate_def, reporters=reporters)
    d = GateDriver(layout)
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    d.approve(a)
    d.emit(Dequeue("gate", a.key))
    assert [r.action for r in d.reports_for(a)] == ["start", "dequeue"]
    assert d.messages(a)[-1].startswith("Build canceled.")
    assert "- project-merge" in d.messages(a)[-1]


def test_a_change_abandoned_while_its_submit_is_in_flight_waits_for_the_answer() -> None:
    d = gate()
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.refuse_submit[a.key] = "change is abandoned"
    d.hold_report_outcomes = True
    d.approve(a)
    d.abandon(a)  # while the submit is on its way
    assert len(d.gate.state.items) == 1  # it stays until the review server answers
    d.hold_report_outcomes = False
    d.deliver_reports()
    assert "not merged by the code review system: change is abandoned" in d.messages(a)[-1]
    d.approve(b)
    assert d.merges == ["2,1"]


def test_a_change_merged_outside_the_gate_leaves_it_without_resetting_the_items_behind() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.approve(a)
    d.approve(b)
    d.release("project-merge")
    d.release("project-merge")
    a.status = "MERGED"  # an admin submitted it by hand
    d.tips[("org/project", "master")] = ("1,1",)
    d.emit(d.change_event(a, "change-merged"))
    assert d.reported(a) == 1  # its start; nothing more
    d.hold_jobs_in_build = False
    d.release()
    assert d.merges == ["2,1"]
    assert not [r for r in d.history if r.result == "ABORTED" and r.changes.endswith("2,1")]
    assert not d.untested_merges


def test_noop_succeeds_at_once_without_a_build_request() -> None:
    layout = baseline_layout()
    layout.projects["org/app"] = ProjectSpec({"check": (job("noop"),), "gate": (job("noop"),)})
    d = GateDriver(layout)
    a = d.add_change("org/app", "A")
    d.hold_jobs_in_build = True  # nothing to hold: no build is ever asked for
    d.upload(a)
    assert not d.history and not d.running_builds() and not d.queued_builds()
    assert "Build succeeded (check pipeline)." in d.messages(a)[-1]
    assert "- noop : SUCCESS" in d.messages(a)[-1]
    d.approve(a)
    assert d.merges == ["1,1"]
    assert not d.history


def test_a_report_that_concludes_a_build_set_names_it_and_its_result() -> None:
    layout = baseline_layout()
    gate_def = layout.pipelines["gate"]
    reporters = {**gate_def.reporters, "dequeue": gate_def.reporters["failure"]}
    layout.pipelines["gate"] = replace(gate_def, reporters=reporters)
    d = GateDriver(layout)
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    c = d.add_change("org/project", "C")
    d.fail("project-test1", b)
    d.refuse_submit[c.key] = "the submit rule says no"
    d.hold_jobs_in_build = True
    d.approve(a)
    d.emit(Dequeue("gate", a.key))
    d.hold_jobs_in_build = False
    d.approve(b)
    d.approve(c)
    buildsets = {r.item: r.buildset for r in d.merge_requests}

    def concluded(change: FakeChange) -> list[tuple[str, str, bool]]:
        return [
            (r.action, r.result, r.buildset == buildsets.get(r.item, "?"))
            for r in d.reports_for(change)
        ]

    assert concluded(a) == [("start", "", False), ("dequeue", "DEQUEUED", True)]
    assert concluded(b) == [("start", "", False), ("failure", "FAILURE", True)]
    assert concluded(c) == [
        ("start", "", False),
        ("success", "SUCCESS", True),
        ("failure", "MERGE_FAILURE", True),
    ]


def test_a_change_that_needs_one_with_an_invalid_configuration_fails_saying_so() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    head = d.add_change("org/project", "H")
    d.approve(head)  # still building: the broken change is not at the head
    a = d.add_change("org/project", "A", files=["zuul.yaml"])
    where = Where(Source("org/project", "master", "zuul.yaml", False), Mark(3, 5))
    d.config_errors[a.key] = (ConfigError(where, "undefined parent", "job.parent", 'job "x"'),)
    b = d.add_change("org/project", "B")
    d.set_parent(b, a)
    c = d.add_change("org/project", "C")
    for change in (a, b, c):
        d.approve(change)
    d.hold_jobs_in_build = False
    d.release()
    assert "zuul.yaml@master:3:5" in d.messages(a)[-1]
    assert BAD_CONFIG_AHEAD in d.messages(b)[-1]
    assert d.merges == ["1,1", "4,1"]  # C did not need A: it moved on


def test_a_change_behind_a_broken_head_it_needs_fails_saying_so() -> None:
    d = gate()
    a = d.add_change("org/project", "A", files=["zuul.yaml"])
    where = Where(Source("org/project", "master", "zuul.yaml", False), Mark(3, 5))
    d.config_errors[a.key] = (ConfigError(where, "undefined parent", "job.parent", 'job "x"'),)
    b = d.add_change("org/project", "B")
    d.depends_on(b, a)
    d.approve(a, event=False)
    d.approve(b)
    assert "zuul.yaml@master:3:5" in d.messages(a)[-1]
    assert BAD_CONFIG_AHEAD in d.messages(b)[-1]
    assert not d.merges


def test_an_event_that_changes_nothing_a_queued_item_holds_leaves_the_state_alone() -> None:
    d = gate()
    d.hold_jobs_in_build = True
    a = d.add_change("org/project", "A")
    b = d.add_change("org/project", "B")
    d.approve(a)
    d.approve(b)
    before = to_dict(d.gate.state)
    started = len(d.merge_requests)
    d.vote(a, "Code-Review", 2)  # again: only the vote's time moves
    assert not d.gate.changed
    d.emit(d.change_event(b, "comment-added", comment="looks good"))
    assert not d.gate.changed
    assert to_dict(d.gate.state) == before
    assert len(d.merge_requests) == started
    d.vote(a, "Code-Review", -2)
    assert "unable to merge due to a missing merge requirement" in d.messages(a)[-1]
    assert len(d.merge_requests) > started  # B was reset: it no longer has A ahead


def test_a_job_gets_what_its_ancestors_returned_and_their_artifacts() -> None:
    jobs = (
        job("build"),
        job("lint"),
        job("test", after=["build"]),
        job("upload", after=["test"], vars={"version": "from-the-job"}),
    )
    layout = FakeLayout(
        pipelines={"check": check_pipeline()},
        projects={"org/app": ProjectSpec({"check": jobs})},
    )
    d = GateDriver(layout)
    a = d.add_change("org/app", "A")
    wheel = {"name": "wheel", "url": "https://logs.example/b/app.whl", "metadata": {"pep": 427}}
    d.returned[("build", a.key)] = {
        "version": "1.2",
        "image": {"tag": "a"},
        "zuul": {"artifacts": [wheel]},
    }
    d.returned[("lint", a.key)] = {"lint": "clean"}  # not an ancestor of upload
    d.returned[("test", a.key)] = {"image": {"digest": "sha256:1"}}
    d.upload(a)
    started = {s.job.name: s for s in d.started_builds}
    assert started["build"].parent_data == {} and started["build"].artifacts == ()
    assert started["test"].parent_data == {"version": "1.2", "image": {"tag": "a"}}
    # transitive, merged in graph order; the job's own vars still win (in the inventory)
    upload = started["upload"]
    assert upload.parent_data == {"version": "1.2", "image": {"tag": "a", "digest": "sha256:1"}}
    assert upload.artifacts == (
        {"project": "org/app", "branch": "master", "change": "1", "patchset": "1", "job": "build"}
        | wheel,
    )
    assert upload.post_review is False  # check runs before review
