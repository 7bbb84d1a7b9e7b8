"""Where a build's logs go, in Zuul's layout (zuul-jobs' set-zuul-log-path-fact)."""

from __future__ import annotations

import re

# Zuul's build ids are random hex uuids, of which 7 characters are enough;
# the gate's own ids (`<tenant>-b<N>`) are not random, and only whole are unique.
_HEX_UUID = re.compile(r"[0-9a-f]{16,}")


def build_log_path(
    *,
    build: str,
    job: str,
    pipeline: str,
    project: str,
    branch: str,
    change: int | None,
    patchset: int | None,
    newrev: str | None,
) -> str:
    """`<change[-2:]>/<change>/<patchset>/<pipeline>/<job>/<uuid[:7]>` for a change,
    `<newrev[:2]>/<newrev>/<pipeline>/<job>/<uuid[:7]>` for a ref update, and
    `<pipeline>/<project>/<branch>/<job>/<uuid[:7]>` for a periodic build; a
    build id that is not a random hex uuid is used whole."""
    plain = build.replace("-", "")
    short = plain[:7] if _HEX_UUID.fullmatch(plain) else build
    if change is not None and patchset is not None:
        return f"{str(change)[-2:]}/{change}/{patchset}/{pipeline}/{job}/{short}"
    if newrev and set(newrev) != {"0"}:
        return f"{newrev[:2]}/{newrev}/{pipeline}/{job}/{short}"
    return f"{pipeline}/{project}/{branch}/{job}/{short}"
