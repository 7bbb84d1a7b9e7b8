"""Syntax highlighting of a diff's lines, with Pygments, chosen by file name.

Each side's whole text is tokenized once and the tokens cut at line ends, so
a token spanning lines (a docstring, a block comment) colours every line it
covers. A line's HTML is built here from its own characters: every piece of
text goes through markupsafe's escape, so a file's content is always text.
"""

from __future__ import annotations

import itertools
import posixpath
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

from markupsafe import Markup, escape
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

# Past this a side is shown plain: tokenizing costs time for every reader.
MAX_HIGHLIGHT_CHARS = 1_000_000

Span = tuple[str, int, int]  # CSS class, [start, end) characters of one line
Mark = tuple[int, int]


# The colours of static/highlight.css, generated from this style.
STYLE = get_style_by_name("default")


@lru_cache(maxsize=512)
def _css_class(token: _TokenType) -> str:
    """The token's class in the style sheet; "" for tokens drawn plain (names,
    punctuation, whitespace), which then cost no markup."""
    while token not in STANDARD_TYPES and token.parent is not None:
        token = token.parent
    css: str = STANDARD_TYPES.get(token, "")
    look = STYLE.style_for_token(token)
    if css == "w" or not (look["color"] or look["bold"] or look["italic"] or look["underline"]):
        return ""
    return css


def lexer_for(path: str) -> Lexer | None:
    """The lexer of a file by its name; None for names Pygments does not know."""
    name = posixpath.basename(path)
    if not name or path.startswith("/"):  # /COMMIT_MSG and the other magic files
        return None
    try:
        return get_lexer_for_filename(name, stripnl=False, ensurenl=False, tabsize=0)
    except ClassNotFound:
        return None


def token_spans(
    path: str, lines: Sequence[str], upto: int | None = None
) -> list[list[Span]] | None:
    """Per line, the coloured spans of its characters (of the first `upto` lines
    at least, when given); None to show the side plain: no lexer for the name,
    too large, or tokens that do not fit the lines."""
    lexer = lexer_for(path)
    if lexer is None or sum(len(line) + 1 for line in lines) > MAX_HIGHLIGHT_CHARS:
        return None
    # Pygments turns \r into a line break and drops a leading BOM; a space in
    # their place keeps every character where it is.
    text = "\n".join(line.replace("\r", " ") for line in lines)
    if text.startswith("\ufeff"):
        text = " " + text[1:]
    wanted = len(lines) if upto is None else min(upto, len(lines))
    key = (lexer.name, text)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
    if cached is None or len(cached) < wanted:
        cached = _tokenize(lexer, text, wanted)
        with _CACHE_LOCK:
            _CACHE[key] = cached
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    spans = cached[: len(lines)]
    if len(spans) < wanted or any(
        own and own[-1][2] > len(line) for own, line in zip(spans, lines, strict=False)
    ):
        return None
    return spans


# Tokens of the texts shown last: the page comes back after every draft saved,
# and diffs between patch sets show the same blobs again.
_CACHE: OrderedDict[tuple[str, str], list[list[Span]]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 32


def _tokenize(lexer: Lexer, text: str, wanted: int) -> list[list[Span]]:
    """The spans of the text's lines, stopping once `wanted` lines are complete."""
    spans: list[list[Span]] = [[]]
    column = 0
    for token, value in lexer.get_tokens(text):
        css = _css_class(token)
        pieces = value.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                spans.append([])
                column = 0
            if piece and css:
                spans[-1].append((css, column, column + len(piece)))
            column += len(piece)
        if len(spans) > wanted:
            return spans[:wanted]
    return spans


def line_html(text: str, spans: Sequence[Span], marks: Sequence[Mark]) -> Markup:
    """One line as HTML: coloured spans, each run of changed characters in one
    `<mark>` (around the spans it covers)."""
    if not text:
        return Markup("")
    if not marks:
        return _plain_marks(text, spans)
    cuts = {0, len(text)}
    for _, start, end in spans:
        cuts.update((start, end))
    for start, end in marks:
        cuts.update((start, end))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    out: list[str] = []
    span_index = 0
    in_mark = False
    for start, end in itertools.pairwise(points):
        while span_index < len(spans) and spans[span_index][2] <= start:
            span_index += 1
        css = ""
        if span_index < len(spans) and spans[span_index][1] <= start:
            css = spans[span_index][0]
        marked = any(low <= start < high for low, high in marks)
        if marked != in_mark:
            out.append("<mark>" if marked else "</mark>")
            in_mark = marked
        piece = escape(text[start:end])
        out.append(f'<span class="{css}">{piece}</span>' if css else str(piece))
    if in_mark:
        out.append("</mark>")
    return Markup("".join(out))


def _plain_marks(text: str, spans: Sequence[Span]) -> Markup:
    """`line_html` of a line without changed characters: the common case, kept quick."""
    out: list[str] = []
    position = 0
    for css, start, end in spans:
        if start > position:
            out.append(escape(text[position:start]))
        out.append(f'<span class="{css}">{escape(text[start:end])}</span>')
        position = end
    if position < len(text):
        out.append(escape(text[position:]))
    return Markup("".join(out))
