"""Stories of autoholds: which failed build's nodes they keep, and for how long."""

from __future__ import annotations

import pytest

from lockgate.core.nodes.autohold import (
    AutoholdError,
    change_ref_filter,
    check_ref_filter,
    expired,
    hold_expires,
    matching,
)
from lockgate.core.nodes.model import HOLD, USED, Autohold, Node


def hold(hid="h1", *, ref=".*", count=1, held=0, created=0.0, expiration=None, job="unit"):
    return Autohold(hid, "main", "org/app", job, ref, "debug", count, expiration, created, held)


CHANGE_REF = "refs/changes/34/1234/2"


def test_an_autohold_matches_its_tenant_project_job_and_ref():
    holds = [hold()]
    assert matching(holds, "main", "org/app", "unit", CHANGE_REF) == holds[0]
    assert matching(holds, "other", "org/app", "unit", CHANGE_REF) is None
    assert matching(holds, "main", "org/lib", "unit", CHANGE_REF) is None
    assert matching(holds, "main", "org/app", "lint", CHANGE_REF) is None


def test_a_used_up_autohold_matches_no_more():
    assert matching([hold(count=2, held=2)], "main", "org/app", "unit", CHANGE_REF) is None
    assert matching([hold(count=2, held=1)], "main", "org/app", "unit", CHANGE_REF) is not None


def test_a_change_filter_matches_every_patch_set_of_that_change_only():
    assert change_ref_filter(1234) == "refs/changes/34/1234/.*"
    assert change_ref_filter(5) == "refs/changes/05/5/.*"
    only = [hold(ref=change_ref_filter(1234))]
    assert matching(only, "main", "org/app", "unit", CHANGE_REF) is not None
    assert matching(only, "main", "org/app", "unit", "refs/changes/35/1235/1") is None


def test_a_ref_specific_autohold_wins_over_an_any_ref_one_even_if_younger():
    anyref = hold("any", created=1.0)
    specific = hold("mine", ref=change_ref_filter(1234), created=5.0)
    assert matching([anyref, specific], "main", "org/app", "unit", CHANGE_REF) == specific


def test_an_invalid_ref_filter_is_refused_with_the_fix():
    with pytest.raises(AutoholdError, match=r"not a valid regular expression.*'\.\*'"):
        check_ref_filter("refs/(")


def test_held_nodes_expire_after_the_autohold_expiration():
    assert hold_expires(hold(expiration=60.0), now=100.0) == 160.0
    assert hold_expires(hold(), now=100.0) is None
    nodes = [
        Node("a", "l", "p", "x", HOLD, 0, 0, hold_expires=150.0),
        Node("b", "l", "p", "x", HOLD, 0, 0, hold_expires=None),
        Node("c", "l", "p", "x", HOLD, 0, 0, hold_expires=90.0),
        Node("d", "l", "p", "x", USED, 0, 0, hold_expires=10.0),
    ]
    assert [n.id for n in expired(nodes, now=100.0)] == ["c"]
    assert [n.id for n in expired(nodes, now=150.0)] == ["c", "a"]
