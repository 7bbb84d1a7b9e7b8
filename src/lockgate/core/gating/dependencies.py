"""The graph of changes needing changes: git parents and Depends-On.

Edges go from a change to the changes it needs ("N,P" keys in `Change.needs`);
a needed change that is not in the pool is merged or unknown and ends the walk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lockgate.core.gating.changes import Change


def strongly_connected(pool: Mapping[str, Change]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that a long chain cannot exhaust the stack.
    Components come out dependencies first; members keep pool order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    order = {key: n for n, key in enumerate(pool)}
    counter = 0
    for root in pool:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            needs = [n for n in pool[node].needs if n in pool]
            advanced = False
            for i in range(pos, len(needs)):
                nxt = needs[i]
                if nxt not in index:
                    work.append((node, i + 1))
                    work.append((nxt, 0))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                out.append(sorted(comp, key=order.__getitem__))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def cycle_of(key: str, pool: Mapping[str, Change]) -> list[str]:
    """The changes in a dependency cycle with `key` (just `key` when there is none)."""
    for comp in strongly_connected(pool):
        if key in comp:
            return comp
    return [key]


def transitive_needs(keys: Iterable[str], pool: Mapping[str, Change]) -> list[str]:
    """Every change the given ones need, directly or not, known to the pool or not."""
    seen: list[str] = []
    todo = [n for k in keys if k in pool for n in pool[k].needs]
    start = set(keys)
    while todo:
        key = todo.pop()
        if key in seen or key in start:
            continue
        seen.append(key)
        if key in pool:
            todo.extend(pool[key].needs)
    return seen


def needed_by(key: str, pool: Mapping[str, Change]) -> list[Change]:
    """The changes in the pool that need `key` directly, oldest change first, as
    the review server lists them."""
    return sorted((c for c in pool.values() if key in c.needs), key=lambda c: c.number)
