"""Which files of a repository are its configuration, in Zuul's order."""

from __future__ import annotations

from lockgate.core.config.files import candidate_paths, config_files, touches_config


def test_zuul_yaml_comes_first_and_hides_the_others() -> None:
    paths = ["zuul.yaml", "zuul.d/a.yaml", ".zuul.yaml", "README"]
    assert config_files(paths) == ["zuul.yaml"]


def test_a_directory_gives_its_yaml_files_sorted_including_subdirectories() -> None:
    paths = [
        "zuul.d/b.yaml",
        "zuul.d/a.yaml",
        "zuul.d/sub/c.yaml",
        "zuul.d/notes.txt",
        ".zuul.yaml",
    ]
    assert config_files(paths) == ["zuul.d/a.yaml", "zuul.d/b.yaml", "zuul.d/sub/c.yaml"]


def test_the_dotted_names_are_read_when_the_plain_ones_are_absent() -> None:
    assert config_files([".zuul.yaml", ".zuul.d/x.yaml"]) == [".zuul.yaml"]
    assert config_files([".zuul.d/y.yaml", ".zuul.d/x.yaml"]) == [
        ".zuul.d/x.yaml",
        ".zuul.d/y.yaml",
    ]
    assert config_files(["src/zuul.yaml", "zuul.d"]) == []


def test_extra_config_paths_are_all_read_after_the_first_root() -> None:
    paths = ["zuul.yaml", ".zuul.yaml", "ci/extra.yaml", "ci/more/a.yaml", "ci/more/b.yaml"]
    assert config_files(paths, ["ci/more/", "ci/extra.yaml"]) == [
        "zuul.yaml",
        "ci/more/a.yaml",
        "ci/more/b.yaml",
        "ci/extra.yaml",
    ]
    assert candidate_paths(["ci/more/"]) == [
        "zuul.yaml",
        "zuul.d",
        ".zuul.yaml",
        ".zuul.d",
        "ci/more",
    ]


def test_a_change_touches_config_in_any_of_zuuls_places() -> None:
    assert touches_config(["src/main.py", ".zuul.d/jobs.yaml"])
    assert touches_config(["zuul.yaml"])
    assert not touches_config(["src/zuul.yaml", "zuul.d/README"])
    assert touches_config(["ci/extra.yaml"], ["ci/extra.yaml"])
    assert not touches_config(["ci/other.yaml"], ["ci/extra.yaml"])
