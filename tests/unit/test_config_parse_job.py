"""Jobs: every attribute, Zuul's shorthand forms, and the errors a bad job gives."""

from __future__ import annotations

from lockgate.core.config.objects import (
    JobDependency,
    NegatedRegex,
    NodesetDef,
    PlaybookRef,
    RequiredProject,
    RoleRef,
    SecretUse,
    regex_matches,
)
from lockgate.core.config.source import Mark, Tagged
from tests.unit.configtext import errors, only_error, parse


def test_a_job_that_sets_only_its_name_leaves_every_attribute_unset() -> None:
    (job,) = parse("- job:\n    name: unit\n").jobs
    assert job.name == "unit"
    assert job.where.mark == Mark(2, 5)
    assert job.parent is None and not job.is_base
    assert job.timeout is None and job.voting is None and job.run is None
    assert job.merge_tags == {}


def test_every_scalar_attribute_is_read() -> None:
    (job,) = parse(
        """
        - job:
            name: full
            parent: base
            description: Runs everything.
            abstract: true
            intermediate: true
            final: false
            protected: true
            voting: false
            timeout: 3600
            post-timeout: 600
            attempts: 2
            post-review: true
            hold-following-changes: true
            match-on-config-updates: false
            override-checkout: stable/2024.1
            workspace-scheme: flat
            deduplicate: auto
            ansible-version: 9
            ansible-split-streams: true
            success-url: https://example.org/ok
            failure-url: https://example.org/bad
        """
    ).jobs
    assert job.parent == "base"
    assert job.description == "Runs everything."
    assert (job.abstract, job.intermediate, job.final, job.protected) == (True, True, False, True)
    assert (job.voting, job.timeout, job.post_timeout, job.attempts) == (False, 3600, 600, 2)
    assert job.post_review and job.hold_following_changes and job.match_on_config_updates is False
    assert job.override_checkout == "stable/2024.1"
    assert job.workspace_scheme == "flat"
    assert job.deduplicate == "auto"
    assert job.ansible_version == "9"
    assert job.ansible_split_streams is True
    assert (job.success_url, job.failure_url) == (
        "https://example.org/ok",
        "https://example.org/bad",
    )


def test_parent_null_makes_a_base_job_in_a_config_project_only() -> None:
    (job,) = parse("- job:\n    name: base\n    parent: null\n").jobs
    assert job.is_base and job.parent is None
    error = only_error("- job:\n    name: base\n    parent: null\n", trusted=False)
    assert error.attribute == "job.parent"
    assert error.where.mark == Mark(3, 5)
    assert "only allowed in a config project" in error.message


def test_a_string_stands_for_a_one_item_list() -> None:
    (job,) = parse(
        """
        - job:
            name: j
            branches: master
            files: ^src/.*
            irrelevant-files: [^doc/.*, ^releasenotes/.*]
            allowed-projects: org/a
            provides: images
            requires: [images, wheels]
            tags: slow
            semaphores: db
            failure-output: "FAILED: .*"
        """
    ).jobs
    assert job.branches == ("master",)
    assert job.files == ("^src/.*",)
    assert job.irrelevant_files == ("^doc/.*", "^releasenotes/.*")
    assert job.allowed_projects == ("org/a",)
    assert job.provides == ("images",)
    assert job.requires == ("images", "wheels")
    assert job.tags == ("slow",)
    assert job.semaphores == ("db",)
    assert job.failure_output == ("FAILED: .*",)


def test_a_negated_branch_regex_matches_the_other_branches() -> None:
    (job,) = parse(
        """
        - job:
            name: j
            branches:
              regex: ^stable/(victoria|wallaby)$
              negate: true
        """
    ).jobs
    (pattern,) = job.branches or ()
    assert isinstance(pattern, NegatedRegex)
    assert regex_matches(pattern, "master")
    assert not regex_matches(pattern, "stable/victoria")


def test_a_repeated_anchor_that_re2_accepts_is_read_the_same_way() -> None:
    (job,) = parse("- job:\n    name: j\n    branches: ^*/(victoria|wallaby)$\n").jobs
    assert job.branches == ("(?:^)*/(victoria|wallaby)$",)


def test_playbooks_are_paths_lists_or_mappings_with_semaphores() -> None:
    (job,) = parse(
        """
        - job:
            name: j
            pre-run: playbooks/pre.yaml
            run:
              - playbooks/run.yaml
              - name: playbooks/second.yaml
                semaphores: [db, net]
            post-run:
              - name: playbooks/post.yaml
                cleanup: true
            cleanup-run: playbooks/clean.yaml
        """
    ).jobs
    assert [p.path for p in job.pre_run or ()] == ["playbooks/pre.yaml"]
    assert job.run is not None
    assert job.run[0] == PlaybookRef("playbooks/run.yaml", where=job.run[0].where)
    assert job.run[0].where.mark == Mark(6, 9)
    assert job.run[1].semaphores == ("db", "net")
    assert job.post_run is not None and job.post_run[0].cleanup
    assert [p.path for p in job.cleanup_run or ()] == ["playbooks/clean.yaml"]


def test_roles_required_projects_dependencies_and_secrets_in_every_form() -> None:
    (job,) = parse(
        """
        - job:
            name: j
            roles:
              - zuul: opendev/base-jobs
              - zuul: org/roles
                name: special
            required-projects:
              - org/plain
              - name: org/pinned
                override-checkout: stable/1
              - name: org/older
                override-branch: stable/2
            dependencies:
              - build
              - name: lint
                soft: true
            secrets:
              - site_logs
              - name: creds
                secret: upload_creds
                pass-to-parent: true
        """
    ).jobs
    assert [(r.project, r.name) for r in job.roles or ()] == [
        ("opendev/base-jobs", None),
        ("org/roles", "special"),
    ]
    assert isinstance(job.roles[0], RoleRef)  # type: ignore[index]
    assert [(p.name, p.override_checkout) for p in job.required_projects or ()] == [
        ("org/plain", None),
        ("org/pinned", "stable/1"),
        ("org/older", "stable/2"),
    ]
    assert isinstance(job.required_projects[0], RequiredProject)  # type: ignore[index]
    assert [(d.name, d.soft) for d in job.dependencies or ()] == [("build", False), ("lint", True)]
    assert isinstance(job.dependencies[0], JobDependency)  # type: ignore[index]
    assert [(s.name, s.secret, s.pass_to_parent) for s in job.secrets or ()] == [
        ("site_logs", "site_logs", False),
        ("creds", "upload_creds", True),
    ]
    assert isinstance(job.secrets[0], SecretUse)  # type: ignore[index]


def test_a_single_required_project_string_is_a_list_of_one() -> None:
    (job,) = parse("- job:\n    name: j\n    required-projects: org/x\n    dependencies: a\n").jobs
    assert [p.name for p in job.required_projects or ()] == ["org/x"]
    assert [d.name for d in job.dependencies or ()] == ["a"]


def test_a_nodeset_by_name_or_inline() -> None:
    by_name, inline = parse(
        """
        - job:
            name: a
            nodeset: ubuntu-noble
        - job:
            name: b
            nodeset:
              nodes:
                - name: [controller, primary]
                  label: ubuntu-noble
                - name: compute1
                  label: ubuntu-noble
              groups:
                - name: computes
                  nodes: compute1
        """
    ).jobs
    assert by_name.nodeset == "ubuntu-noble"
    assert isinstance(inline.nodeset, NodesetDef)
    assert inline.nodeset.name == ""
    assert [n.names for n in inline.nodeset.nodes] == [("controller", "primary"), ("compute1",)]
    assert [(g.name, g.nodes) for g in inline.nodeset.groups] == [("computes", ("compute1",))]


def test_vars_of_every_kind_are_kept_with_their_positions() -> None:
    (job,) = parse(
        """
        - job:
            name: j
            vars:
              devstack_localrc:
                A: 1
            extra-vars: {x: y}
            host-vars:
              controller: {role: main}
            group-vars:
              computes: {role: worker}
        """
    ).jobs
    assert job.vars == {"devstack_localrc": {"A": 1}}
    assert job.vars.key_marks["devstack_localrc"] == Mark(5, 7)  # type: ignore[union-attr]
    assert job.extra_vars == {"x": "y"}
    assert job.host_vars == {"controller": {"role": "main"}}
    assert job.group_vars == {"computes": {"role": "worker"}}


def test_override_and_inherit_tags_fill_merge_tags() -> None:
    (job,) = parse(
        """
        - job:
            name: j
            files: !override [^a]
            vars: !inherit {x: 1}
            required-projects: !override [org/a]
        """
    ).jobs
    assert job.files == ("^a",)
    assert job.vars == {"x": 1}
    assert job.merge_tags == {
        "files": "override",
        "vars": "inherit",
        "required_projects": "override",
    }


def test_a_tag_on_a_scalar_attribute_is_an_error() -> None:
    error = only_error("- job:\n    name: j\n    timeout: !override 10\n")
    assert error.attribute == "job.timeout"
    assert "tag is not allowed here" in error.message
    assert error.where.mark == Mark(3, 14)


def test_the_older_names_override_branch_and_semaphore_are_read() -> None:
    (job,) = parse("- job:\n    name: j\n    override-branch: master\n    semaphore: db\n").jobs
    assert job.override_checkout == "master"
    assert job.semaphores == ("db",)
    error = only_error("- job:\n    name: j\n    override-branch: a\n    override-checkout: b\n")
    assert error.attribute == "job.override-branch"


def test_an_unknown_attribute_names_the_closest_valid_one() -> None:
    error = only_error("- job:\n    name: unit\n    timout: 10\n")
    assert error.attribute == "job.timout"
    assert error.context == 'job "unit"'
    assert error.where.mark == Mark(3, 5)
    assert error.message == "unknown attribute"
    assert error.hint.startswith("did you mean 'timeout'? valid attributes: abstract,")
    assert error.render().startswith(
        'org/project/zuul.d/test.yaml@master:3:5 job "unit": job.timout: unknown attribute'
    )


def test_zuul_attributes_lockgate_does_not_support_say_so() -> None:
    error = only_error("- job:\n    name: j\n    include-vars: vars.yaml\n")
    assert error.attribute == "job.include-vars"
    assert "does not support" in error.message


def test_wrong_types_name_the_attribute_and_what_was_found() -> None:
    found = errors(
        """
        - job:
            name: j
            voting: maybe
            timeout: -1
            attempts: 1.5
            branches: [master, 3]
            roles: [org/x]
            parent: [a]
            workspace-scheme: deep
        """
    )
    by_attribute = {e.attribute: e for e in found}
    assert by_attribute["job.voting"].message == "must be true or false, not a string"
    assert "positive integer" in by_attribute["job.timeout"].message
    assert "not a number" in by_attribute["job.attempts"].message
    assert by_attribute["job.branches"].where.mark == Mark(7, 24)
    assert (
        "regex (a string or a mapping with regex and negate)"
        in by_attribute["job.branches"].message
    )
    assert "zuul: org/project" in by_attribute["job.roles"].message
    assert by_attribute["job.parent"].message == "must be a job name or null, not a list"
    assert (
        "'deep' is not one of golang, flat, unique" in by_attribute["job.workspace-scheme"].message
    )


def test_a_bad_regex_is_named_with_its_position() -> None:
    error = only_error(
        "- job:\n    name: j\n    irrelevant-files:\n      - ^doc/.*\n      - ^(src\n"
    )
    assert error.attribute == "job.irrelevant-files"
    assert error.where.mark == Mark(5, 9)
    assert "invalid regular expression '^(src'" in error.message


def test_an_intermediate_job_must_be_abstract() -> None:
    error = only_error("- job:\n    name: j\n    intermediate: true\n")
    assert error.message == "an intermediate job must also be abstract"


def test_reserved_variable_names_are_errors() -> None:
    error = only_error("- job:\n    name: j\n    vars:\n      zuul: {}\n")
    assert error.attribute == "job.vars.zuul"
    assert error.where.mark == Mark(4, 7)


def test_a_job_without_a_name_is_an_error_at_the_job() -> None:
    error = only_error("- job:\n    parent: base\n")
    assert error.attribute == "job.name"
    assert error.message == "is required"
    assert error.where.mark == Mark(2, 5)


def test_a_bad_job_is_dropped_and_the_others_are_kept() -> None:
    parsed = parse("- job:\n    name: bad\n    voting: 3\n- job:\n    name: good\n")
    assert [j.name for j in parsed.jobs] == ["good"]
    assert len(parsed.errors) == 1


def test_encrypted_values_in_vars_stay_tagged() -> None:
    (job,) = parse("- job:\n    name: j\n    vars:\n      token: !encrypted/pkcs1-oaep abc\n").jobs
    assert isinstance(job.vars["token"], Tagged)  # type: ignore[index]
