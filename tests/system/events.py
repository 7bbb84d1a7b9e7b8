"""Making review events for tests: changes by real pushes, and many events
on a change through the services, as the review endpoints make them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from lockgate.core.review import events
from lockgate.services.bootstrap import Services
from tests.gitutil import Contributor, new_change_id


def push_change(who: Contributor, subject: str, *options: str) -> int:
    """A new change by a real push; returns its number."""
    who.commit(subject, change_id=new_change_id())
    suffix = "%" + ",".join(options) if options else ""
    pushed = who.push(f"HEAD:refs/for/master{suffix}")
    assert pushed.ok, pushed.output
    # The push prints the new change's URL, `<url>c/<project>/+/<N> <subject> [NEW]`.
    found = re.search(r"/\+/(\d+) ", pushed.output)
    assert found, pushed.output
    return int(found.group(1))


def topics(services: Services, number: int, *names: str) -> list[int]:
    """One topic-changed event per name on change `number`; returns their seqs."""
    actor = services.accounts.get("admin")
    seqs = []
    for name in names:
        with services.writer.write(number, actor) as write:
            old = write.change.topic
            write.update(topic=name)
            seqs.append(
                write.event(lambda s, o=old: events.topic_changed(s, changer=actor, old_topic=o))
            )
    return seqs


def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait for the server to reach a state by itself; fail instead of hanging."""
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)
