"""Build log paths: Zuul's layout, and one folder per build."""

from __future__ import annotations

from lockgate.core.nodes.log_paths import build_log_path


def path(build: str, **where: object) -> str:
    args: dict[str, object] = {
        "job": "unit",
        "pipeline": "check",
        "project": "org/app",
        "branch": "main",
        "change": 1234,
        "patchset": 2,
        "newrev": None,
    }
    args.update(where)
    return build_log_path(build=build, **args)  # type: ignore[arg-type]


def test_a_random_uuid_is_cut_to_seven_characters_as_in_zuul() -> None:
    assert path("0123456789abcdef0123456789abcdef") == "34/1234/2/check/unit/0123456"


def test_the_gates_own_build_ids_stay_whole_so_rechecks_never_share_a_folder() -> None:
    first, recheck = path("main-b1234"), path("main-b1235")
    assert first == "34/1234/2/check/unit/main-b1234"
    assert first != recheck
    assert path("main-b7", change=None, patchset=None, newrev="ab" * 20).endswith("/main-b7")
