"""Relation chains: changes whose patch sets are ancestors or descendants of another's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lockgate.core.review.model import ChangeDetail, PatchSet

if TYPE_CHECKING:
    from lockgate.services.review import RelatedChange, ReviewService


def related_changes(
    review: ReviewService, detail: ChangeDetail, patch_set: PatchSet
) -> list[RelatedChange]:
    raise NotImplementedError("relation chains are being built")
