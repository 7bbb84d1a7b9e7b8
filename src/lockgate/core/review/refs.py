"""Names of the refs a review server keeps."""

from __future__ import annotations

import re

HEADS = "refs/heads/"
TAGS = "refs/tags/"
CHANGES = "refs/changes/"
FOR = "refs/for/"
META_CONFIG = "refs/meta/config"

_CHANGE_REF = re.compile(r"^refs/changes/(\d\d)/([1-9]\d*)/([1-9]\d*|meta)$")


def change_ref(change_number: int, patch_set: int) -> str:
    """`refs/changes/NN/N/P`, NN being the last two digits of N, zero padded."""
    return f"{CHANGES}{change_number % 100:02d}/{change_number}/{patch_set}"


def parse_change_ref(ref: str) -> tuple[int, int] | None:
    """(change, patch set) of a patch set ref, or None for any other ref."""
    match = _CHANGE_REF.match(ref)
    if match is None or match.group(3) == "meta":
        return None
    number = int(match.group(2))
    if int(match.group(1)) != number % 100:
        return None
    return number, int(match.group(3))


def branch_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else HEADS + branch


def short_branch(ref: str) -> str:
    return ref[len(HEADS) :] if ref.startswith(HEADS) else ref
