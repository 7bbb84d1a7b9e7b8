"""Which files of a repository hold its Zuul configuration, in load order.

Zuul reads the first of `zuul.yaml`, `zuul.d/`, `.zuul.yaml`, `.zuul.d/`
that the repository has (a directory: every `.yaml` file under it, in
sorted path order) and ignores the others. A tenant's
`extra-config-paths` are read after that, all of them, in the order
given; an entry ending in `/` is a directory, any other a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

CONFIG_ROOTS = ("zuul.yaml", "zuul.d/", ".zuul.yaml", ".zuul.d/")


def _is_dir(root: str) -> bool:
    return root.endswith("/")


def _under(root: str, path: str) -> bool:
    if _is_dir(root):
        return path.startswith(root) and path.endswith(".yaml")
    return path == root


def candidate_paths(extra_config_paths: Sequence[str] = ()) -> list[str]:
    """Paths (files and directories, without the trailing `/`) worth
    listing in a repository to find its configuration."""
    return [root.rstrip("/") for root in (*CONFIG_ROOTS, *extra_config_paths)]


def config_files(paths: Iterable[str], extra_config_paths: Sequence[str] = ()) -> list[str]:
    """The configuration files among a repository's `paths`, in the order
    Zuul loads them."""
    present = sorted(set(paths))
    result: list[str] = []
    for root in CONFIG_ROOTS:
        found = [path for path in present if _under(root, path)]
        if found:
            result.extend(found)
            break
    for root in extra_config_paths:
        for path in present:
            if _under(root, path) and path not in result:
                result.append(path)
    return result


def touches_config(changed: Iterable[str], extra_config_paths: Sequence[str] = ()) -> bool:
    """Whether a change to `changed` paths may change the configuration:
    any of Zuul's places counts, loaded or not, since adding `zuul.yaml`
    replaces `.zuul.yaml`."""
    roots = (*CONFIG_ROOTS, *extra_config_paths)
    return any(_under(root, path) for path in changed for root in roots)
