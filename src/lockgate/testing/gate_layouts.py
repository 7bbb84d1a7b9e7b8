"""Layouts of the gating stories, in Zuul's syntax, as a site's config project holds them."""

from __future__ import annotations

PIPELINES = r"""
- pipeline:
    name: check
    manager: independent
    trigger:
      gerrit:
        - event: patchset-created
        - event: comment-added
          comment: (?i)^(Patch Set [0-9]+:)?( [\w\\+-]*)*(\n\n)?\s*recheck
    success:
      gerrit:
        Verified: 1
    failure:
      gerrit:
        Verified: -1

- pipeline:
    name: gate
    manager: dependent
    precedence: high
    success-message: Build succeeded (gate pipeline).
    failure-message: Build failed (gate pipeline).
    require:
      gerrit:
        open: true
        current-patchset: true
        approval:
          - Code-Review: 2
          - Workflow: 1
    trigger:
      gerrit:
        - event: comment-added
          approval:
            - Workflow: 1
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

- job:
    name: base
    parent: null

- job:
    name: project-merge
    hold-following-changes: true

- job:
    name: project-test1
    attempts: 4

- job:
    name: project-test2

- job:
    name: project1-project2-integration

- project-template:
    name: merge-and-test
    check:
      jobs:
        - project-merge
        - project-test1:
            dependencies: project-merge
        - project-test2:
            dependencies: project-merge
    gate:
      jobs:
        - project-merge
        - project-test1:
            dependencies: project-merge
        - project-test2:
            dependencies: project-merge

- project:
    name: org/project
    templates:
      - merge-and-test

- project:
    name: org/project1
    queue: integrated
    templates:
      - merge-and-test
    gate:
      jobs:
        - project1-project2-integration:
            dependencies: project-merge

- project:
    name: org/project2
    queue: integrated
    templates:
      - merge-and-test
"""

PROJECTS: dict[str, str | None] = {"org/project": None, "org/project1": None, "org/project2": None}
