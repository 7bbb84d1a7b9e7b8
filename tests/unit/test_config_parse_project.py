"""Projects and project templates: pipelines, job lists, inline variants, queues."""

from __future__ import annotations

from lockgate.core.config.source import Mark
from tests.unit.configtext import errors, only_error, parse

PROJECT = """
- project:
    name: openstack/nova
    description: Compute.
    templates: [openstack-python3-jobs, release-notes-jobs]
    queue: integrated
    merge-mode: squash-merge
    default-branch: main
    vars:
      rtd_webhook_id: '52747'
    check:
      fail-fast: true
      jobs:
        - nova-tox-functional
        - nova-live-migration:
            voting: false
            irrelevant-files: &docs
              - ^doc/.*
        - nova-grenade:
    gate:
      queue: nova
      debug: true
      jobs:
        - nova-live-migration:
            irrelevant-files: *docs
    experimental:
"""


def test_a_project_with_every_attribute() -> None:
    (project,) = parse(PROJECT).projects
    assert project.name == "openstack/nova"
    assert project.description == "Compute."
    assert project.templates == ("openstack-python3-jobs", "release-notes-jobs")
    assert (project.queue, project.merge_mode, project.default_branch) == (
        "integrated",
        "squash-merge",
        "main",
    )
    assert project.vars == {"rtd_webhook_id": "52747"}
    assert list(project.pipelines) == ["check", "gate", "experimental"]


def test_job_lists_hold_names_and_inline_variants() -> None:
    (project,) = parse(PROJECT).projects
    check = project.pipelines["check"]
    assert check.fail_fast is True
    assert [use.name for use in check.jobs] == [
        "nova-tox-functional",
        "nova-live-migration",
        "nova-grenade",
    ]
    plain, variant, empty = check.jobs
    assert plain.variant is None and plain.where.mark == Mark(14, 11)
    assert variant.variant is not None
    assert variant.variant.name == "nova-live-migration"
    assert variant.variant.voting is False
    assert variant.variant.irrelevant_files == ("^doc/.*",)
    assert variant.variant.timeout is None
    assert empty.variant is None


def test_the_older_per_pipeline_queue_and_debug() -> None:
    (project,) = parse(PROJECT).projects
    gate = project.pipelines["gate"]
    assert (gate.queue, gate.debug) == ("nova", True)
    assert gate.jobs[0].variant is not None
    assert gate.jobs[0].variant.irrelevant_files == ("^doc/.*",)
    assert project.pipelines["experimental"].jobs == ()


def test_a_project_without_a_name_applies_to_its_own_repository() -> None:
    (project,) = parse("- project:\n    check:\n      jobs: [tox]\n", trusted=False).projects
    assert project.name == ""


def test_a_regex_project_name_only_in_a_config_project() -> None:
    (project,) = parse("- project:\n    name: ^openstack/.*$\n    templates: [a]\n").projects
    assert project.name == "^openstack/.*$"
    error = only_error("- project:\n    name: ^openstack/.*$\n", trusted=False)
    assert error.attribute == "project.name"


def test_an_error_in_an_inline_variant_names_the_pipeline_and_job() -> None:
    error = only_error(
        "- project:\n    check:\n      jobs:\n        - tox:\n            votin: false\n"
    )
    assert error.attribute == "project.check.jobs.tox.votin"
    assert error.context == "project"
    assert error.where.mark == Mark(5, 13)
    assert error.hint.startswith("did you mean 'voting'?")


def test_a_misspelled_attribute_with_a_scalar_is_not_a_pipeline() -> None:
    error = only_error("- project:\n    name: a\n    templats: [x]\n")
    assert error.attribute == "project.templats"
    assert "is read as a pipeline" in error.message
    assert error.hint == "did you mean 'templates'?"


def test_bad_values_in_a_project() -> None:
    found = errors(
        """
        - project:
            name: a
            merge-mode: octopus
            check:
              jobs:
                - [nested]
                - {one: {}, two: {}}
              fast: true
        """
    )
    messages = {e.attribute: e.message for e in found}
    assert messages["project.merge-mode"].startswith("'octopus' is not one of merge, merge-resolve")
    assert "job entry is a job name" in messages["project.check.jobs"]
    assert messages["project.check.fast"] == "unknown attribute"


def test_a_template_with_its_pipelines() -> None:
    (template,) = parse(
        """
        - project-template:
            name: python-jobs
            description: Unit tests.
            queue: shared
            check:
              jobs:
                - tox-py312
            gate:
              jobs:
                - tox-py312:
                    branches: master
        """
    ).templates
    assert (template.name, template.description, template.queue) == (
        "python-jobs",
        "Unit tests.",
        "shared",
    )
    assert template.pipelines["gate"].jobs[0].variant is not None
    assert template.pipelines["gate"].jobs[0].variant.branches == ("master",)


def test_a_template_needs_a_name_and_takes_no_templates() -> None:
    found = errors("- project-template:\n    templates: [a]\n")
    assert {e.attribute for e in found} == {"project-template.name", "project-template.templates"}
