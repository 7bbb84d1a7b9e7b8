"""Pipelines: managers, triggers per driver, requirements, reporters, windows,
and the connections a site does not have."""

from __future__ import annotations

from lockgate.core.config.objects import ApprovalMatch
from lockgate.core.config.source import Mark
from tests.unit.configtext import errors, only_error, parse

GATE = """
- pipeline:
    name: gate
    description: Approved changes, tested in order.
    manager: dependent
    precedence: high
    post-review: true
    supercedes: check
    success-message: Build succeeded (gate pipeline).
    merge-failure-message: Could not merge.
    window: 10
    window-floor: 2
    window-ceiling: 30
    window-increase-type: exponential
    window-increase-factor: 2
    window-decrease-type: linear
    window-decrease-factor: 1
    disable-after-consecutive-failures: 5
    require:
      gerrit:
        open: true
        current-patchset: true
        approval:
          - Verified: [1, 2]
            username: zuul
          - Workflow: 1
    reject:
      gerrit:
        wip: true
        hashtags: ^hold$
    trigger:
      gerrit:
        - event: comment-added
          approval:
            - Workflow: 1
          require:
            approval:
              - Verified: [-1, -2]
                username: zuul
        - event: [ref-updated]
          ref: ^refs/tags/.*
          ignore-deletes: false
    start:
      gerrit:
        Verified: 0
    success:
      gerrit:
        Verified: 2
        submit: true
    failure:
      gerrit:
        Verified: -2
        notify: OWNER
      smtp:
        to: ops@example.org
        from: zuul@example.org
        subject: Gate failure
    merge-failure:
      gerrit:
        Verified: -1
        comment: true
"""


def test_a_gate_pipeline_is_read_whole() -> None:
    (pipeline,) = parse(GATE).pipelines
    assert (pipeline.name, pipeline.manager, pipeline.precedence) == ("gate", "dependent", "high")
    assert pipeline.post_review and pipeline.supercedes == ("check",)
    assert pipeline.success_message == "Build succeeded (gate pipeline)."
    assert pipeline.merge_conflict_message == "Could not merge."
    assert pipeline.failure_message == "Build failed."  # the default
    assert (pipeline.window, pipeline.window_floor, pipeline.window_ceiling) == (10, 2, 30)
    assert (pipeline.window_increase_type, pipeline.window_increase_factor) == ("exponential", 2)
    assert (pipeline.window_decrease_type, pipeline.window_decrease_factor) == ("linear", 1)
    assert pipeline.disable_after_consecutive_failures == 5


def test_requirements_and_approvals() -> None:
    (pipeline,) = parse(GATE).pipelines
    (require,) = pipeline.require
    assert (require.connection, require.open, require.current_patchset) == ("gerrit", True, True)
    assert require.approvals == (
        ApprovalMatch(labels={"Verified": (1, 2)}, username="zuul"),
        ApprovalMatch(labels={"Workflow": (1,)}),
    )
    (reject,) = pipeline.reject
    assert reject.wip is True and reject.hashtags == ("^hold$",)


def test_triggers_per_event_with_their_filters() -> None:
    (pipeline,) = parse(GATE).pipelines
    comment, tag = pipeline.triggers
    assert (comment.connection, comment.driver, comment.events) == (
        "gerrit",
        "gerrit",
        ("comment-added",),
    )
    assert comment.approvals == (ApprovalMatch(labels={"Workflow": (1,)}),)
    assert comment.require_approvals == (
        ApprovalMatch(labels={"Verified": (-1, -2)}, username="zuul"),
    )
    assert comment.require is not None and comment.require.approvals == comment.require_approvals
    assert comment.where.mark == Mark(33, 11)
    assert tag.events == ("ref-updated",) and tag.refs == ("^refs/tags/.*",)
    assert tag.ignore_deletes is False


def test_reporters_per_action_and_merge_failure_as_merge_conflict() -> None:
    (pipeline,) = parse(GATE).pipelines
    assert set(pipeline.reporters) == {"start", "success", "failure", "merge-conflict"}
    (start,) = pipeline.reporters["start"]
    assert start.labels == {"Verified": 0}
    (success,) = pipeline.reporters["success"]
    assert success.labels == {"Verified": 2} and success.submit
    gerrit, smtp = pipeline.reporters["failure"]
    assert gerrit.notify == "OWNER" and gerrit.comment
    assert (smtp.driver, smtp.options["to"]) == ("smtp", "ops@example.org")
    (conflict,) = pipeline.reporters["merge-conflict"]
    assert conflict.labels == {"Verified": -1}


def test_timer_and_zuul_triggers() -> None:
    periodic, follow = parse(
        """
        - pipeline:
            name: periodic
            manager: independent
            trigger:
              timer:
                - time: '0 2 * * *'
                - time: '0 * * * * * 120'
        - pipeline:
            name: follow
            manager: independent
            trigger:
              zuul:
                - event: parent-change-enqueued
                  pipeline: gate
        """
    ).pipelines
    assert [t.times for t in periodic.triggers] == [("0 2 * * *",), ("0 * * * * * 120",)]
    (trigger,) = follow.triggers
    assert (trigger.driver, trigger.events, trigger.pipelines) == (
        "zuul",
        ("parent-change-enqueued",),
        ("gate",),
    )


def test_an_unknown_connection_is_a_warning_and_the_pipeline_still_loads() -> None:
    parsed = parse(
        """
        - pipeline:
            name: check
            manager: independent
            trigger:
              gerrit:
                - event: patchset-created
              github:
                - event: pull_request
            success:
              github:
                check: success
        """
    )
    (pipeline,) = parsed.pipelines
    assert [t.connection for t in pipeline.triggers] == ["gerrit"]
    assert pipeline.reporters["success"] == ()
    trigger_warning, report_warning = parsed.errors
    assert trigger_warning.severity == "warning"
    assert trigger_warning.attribute == "pipeline.trigger.github"
    assert trigger_warning.message == "unknown connection 'github'; its trigger is left out"
    assert trigger_warning.where.mark == Mark(8, 7)
    assert report_warning.attribute == "pipeline.success.github"


def test_a_known_github_connection_keeps_its_options() -> None:
    (pipeline,) = parse(
        """
        - pipeline:
            name: check
            manager: independent
            trigger:
              github:
                - event: pull_request
                  action: [opened, changed]
            success:
              github:
                check: success
                comment: false
        """,
        connections={"github": "github"},
    ).pipelines
    (trigger,) = pipeline.triggers
    assert trigger.events == ("pull_request",)
    assert trigger.options == {"action": ["opened", "changed"]}
    (reporter,) = pipeline.reporters["success"]
    assert reporter.options == {"check": "success", "comment": False}


def test_a_pipeline_in_an_untrusted_project_is_an_error() -> None:
    error = only_error(
        "- pipeline:\n    name: p\n    manager: independent\n    trigger: {}\n", trusted=False
    )
    assert error.message == "a pipeline is only allowed in a config project"
    assert error.where.mark == Mark(2, 5)


def test_bad_enums_name_the_choices() -> None:
    found = errors(
        """
        - pipeline:
            name: p
            manager: dependant
            precedence: urgent
            window-increase-type: quadratic
            trigger: {}
        """
    )
    by_attribute = {e.attribute: e for e in found}
    manager = by_attribute["pipeline.manager"]
    assert (
        manager.message == "'dependant' is not one of independent, dependent, serial, supercedent"
    )
    assert manager.hint.startswith("did you mean 'dependent'?")
    assert manager.where.mark == Mark(4, 5)
    assert "'urgent' is not one of high, normal, low" in by_attribute["pipeline.precedence"].message
    assert "linear, exponential" in by_attribute["pipeline.window-increase-type"].message


def test_manager_and_trigger_are_required() -> None:
    found = errors("- pipeline:\n    name: p\n")
    assert {(e.attribute, e.message) for e in found} == {
        ("pipeline.manager", "is required"),
        ("pipeline.trigger", "is required"),
    }


def test_trigger_errors_name_the_driver_attribute() -> None:
    found = errors(
        """
        - pipeline:
            name: p
            manager: independent
            trigger:
              gerrit:
                - event: patchset-create
                - event: comment-added
                  comment: (unclosed
                - event: comment-added
                  aproval: [{Verified: 1}]
                - event: comment-added
                  approval: [{Verified: yes}]
                - event: comment-added
                  require:
                    approval: [{Verified: 1, newer-than: soon}]
              timer:
                - time: every day
        """
    )
    messages = {e.attribute: e.message for e in found}
    assert messages["pipeline.trigger.gerrit.event"] == "unknown event 'patchset-create'"
    assert "invalid regular expression '(unclosed'" in messages["pipeline.trigger.gerrit.comment"]
    assert messages["pipeline.trigger.gerrit.aproval"] == "unknown attribute"
    assert "integer or a list of integers" in messages["pipeline.trigger.gerrit.approval.Verified"]
    assert messages["pipeline.trigger.gerrit.require.approval.newer-than"] == "'soon' is not an age"
    assert "is not a cron specification" in messages["pipeline.trigger.timer.time"]


def test_reporter_errors() -> None:
    found = errors(
        """
        - pipeline:
            name: p
            manager: independent
            trigger: {gerrit: [{event: patchset-created}]}
            success:
              gerrit:
                Verified: plus-one
                submit: yes please
            failure:
              smtp:
                too: a@example.org
        """
    )
    messages = {e.attribute: e.message for e in found}
    assert (
        messages["pipeline.success.gerrit.Verified"]
        == "a label vote must be an integer, not a string"
    )
    assert messages["pipeline.success.gerrit.submit"] == "must be true or false, not a string"
    assert messages["pipeline.failure.smtp.too"] == "unknown attribute"


def test_merge_failure_and_merge_conflict_together_is_an_error() -> None:
    error = only_error(
        """
        - pipeline:
            name: p
            manager: independent
            trigger: {}
            merge-failure: {gerrit: {Verified: -1}}
            merge-conflict: {gerrit: {Verified: -1}}
        """
    )
    assert error.attribute == "pipeline.merge-failure"
    assert "older name of merge-conflict" in error.message


def test_an_empty_reporter_reports_with_its_defaults() -> None:
    (pipeline,) = parse(
        "- pipeline:\n    name: p\n    manager: independent\n    trigger: {}\n"
        "    no-jobs:\n      gerrit:\n"
    ).pipelines
    (reporter,) = pipeline.reporters["no-jobs"]
    assert reporter.labels == {} and reporter.comment and not reporter.submit
