"""`refs/for/<branch>%options` and `git push -o` options."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.review.push_options import PushOptionError, PushOptions, parse_for_ref


def test_branch_and_options_from_the_ref_name() -> None:
    found = parse_for_ref(
        "refs/for/stable/2024.1%topic=x,t=ui,t=ui,r=alice,cc=bob@example.com,wip,private,"
        "m=Fix+the_thing%21"
    )
    assert found.branch == "stable/2024.1"
    assert found.options == PushOptions(
        topic="x",
        hashtags=("ui",),
        reviewers=("alice",),
        ccs=("bob@example.com",),
        wip=True,
        private=True,
        message="Fix the thing!",
    )


def test_push_options_add_to_those_of_the_ref_name() -> None:
    found = parse_for_ref("refs/for/refs/heads/master%r=alice", ("r=bob", "ready", "topic=y"))
    assert found.branch == "master"
    assert found.options.reviewers == ("alice", "bob")
    assert found.options.wip is False
    assert found.options.topic == "y"


def test_notify_is_read_in_any_case() -> None:
    assert parse_for_ref("refs/for/master%notify=none").options.notify == "NONE"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("refs/for/", "no branch named"),
        ("refs/for/%topic=x", "no branch named"),
        ("refs/heads/master", "is not under refs/for/"),
        ("refs/for/master%topic", "push option 'topic' needs a value, as in topic=VALUE"),
        ("refs/for/master%colour=red", '"colour=red" is not a valid option'),
        ("refs/for/master%notify=LOUD", "notify=LOUD is not one of NONE, OWNER"),
        ("refs/for/master%wip,ready", "the options 'wip' and 'ready' are mutually exclusive"),
        (
            "refs/for/master%private,remove-private",
            "the options 'private' and 'remove-private' are mutually exclusive",
        ),
    ],
)
def test_bad_options_are_refused_with_the_fix(ref: str, message: str) -> None:
    with pytest.raises(PushOptionError, match=message.replace("(", r"\(")):
        parse_for_ref(ref)


_word = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
_branch = st.from_regex(r"[a-z][a-z0-9._/-]{0,30}", fullmatch=True)


@given(ref=st.text(max_size=80), options=st.lists(st.text(max_size=30), max_size=4))
def test_any_input_is_parsed_or_refused_with_a_push_option_error(
    ref: str, options: list[str]
) -> None:
    try:
        parse_for_ref("refs/for/" + ref, tuple(options))
    except PushOptionError as error:
        assert str(error)


@given(
    branch=_branch,
    topic=st.none() | _word,
    hashtags=st.lists(_word, max_size=3, unique=True),
    reviewers=st.lists(_word, max_size=3, unique=True),
    wip=st.none() | st.booleans(),
    message=st.none() | _word,
)
def test_options_written_as_git_review_writes_them_read_back(
    *,
    branch: str,
    topic: str | None,
    hashtags: list[str],
    reviewers: list[str],
    wip: bool | None,
    message: str | None,
) -> None:
    def quote(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    items = []
    if topic is not None:
        items.append(f"topic={quote(topic)}")
    items += [f"t={quote(h)}" for h in hashtags]
    items += [f"r={quote(r)}" for r in reviewers]
    if wip is not None:
        items.append("wip" if wip else "ready")
    if message is not None:
        # git-review's quote_plus leaves `_` alone, which Gerrit reads as a space.
        items.append("m=" + urllib.parse.quote_plus(message).replace("_", "%5F"))
    ref = f"refs/for/{branch}" + ("%" + ",".join(items) if items else "")

    found = parse_for_ref(ref)

    assert found.branch == branch
    assert found.options.topic == topic
    assert found.options.hashtags == tuple(hashtags)
    assert found.options.reviewers == tuple(reviewers)
    assert found.options.wip == wip
    assert found.options.message == message
