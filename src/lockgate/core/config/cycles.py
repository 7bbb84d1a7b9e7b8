"""Loops in a graph of names: parent chains of jobs.

Most jobs have one parent, so `looping_components` settles single-parent
chains by walking them and leaves Tarjan's algorithm the few places where
chains branch or loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def looping_components(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The strongly connected components that hold a loop. Most jobs have one
    parent, so chains that reach a job already known to be outside any loop
    are settled without Tarjan's bookkeeping."""
    settled: set[str] = set()  # reach a base job without a loop: on no loop
    suspects: set[str] = set()
    for root in graph:
        if root in settled or root in suspects:
            continue
        walk: list[str] = []
        on_walk: set[str] = set()
        node: str | None = root
        while node is not None and node not in settled:
            parents = graph.get(node, ())
            if node in on_walk or node in suspects or len(parents) > 1:
                suspects.update(walk)
                suspects.add(node)
                break
            walk.append(node)
            on_walk.add(node)
            node = parents[0] if parents else None
        else:
            settled.update(walk)
    if not suspects:
        return []
    sub = {n: [p for p in graph.get(n, ()) if p in suspects] for n in suspects}
    return [c for c in strongly_connected(sub) if len(c) > 1 or c[0] in sub[c[0]]]


def strongly_connected(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that deep chains do not recurse."""
    counter = 0
    indexes: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in graph:
        if root in indexes:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                indexes[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph.get(node, ())
            recursed = False
            while i < len(edges):
                target = edges[i]
                i += 1
                if target not in indexes:
                    work.append((node, i))
                    work.append((target, 0))
                    recursed = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], indexes[target])
            if recursed:
                continue
            if low[node] == indexes[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def find_cycle(graph: Mapping[str, Sequence[str]], start: str, members: set[str]) -> list[str]:
    """A path start -> ... -> start inside one strongly connected component."""
    path = [start]
    seen = {start}
    node = start
    while True:
        nxt = next((t for t in graph.get(node, ()) if t in members), None)
        if nxt is None:
            return path
        path.append(nxt)
        if nxt == start or nxt in seen:
            return path[path.index(nxt) :] if nxt != start else path
        seen.add(nxt)
        node = nxt
