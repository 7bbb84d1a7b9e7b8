"""The grammar of the change search language: tokens to an AST.

    query    := or END
    or       := and ("OR" and)*
    and      := unary (["AND"] unary)*        juxtaposition is AND, as in Gerrit
    unary    := ("-" | "NOT") unary | primary
    primary  := "(" or ")" | TERM

OR binds loosest, then AND (written or implied), then negation: `a b OR c`
is `(a b) OR c`, as in Gerrit. Parenthesised groups stay nested in the AST
as written, so rendering an AST and parsing it back gives the same AST.

Every error is a QueryError naming the token and its position; nothing else
escapes, whatever the text.
"""

from __future__ import annotations

from lockgate.core.query import ast
from lockgate.core.query.errors import QueryError, at
from lockgate.core.query.lexer import Kind, Token, tokenize
from lockgate.core.query.operators import build_term

# Bounds that keep a hostile query from exhausting the stack or building a
# statement the database would choke on; real queries are far inside them.
MAX_DEPTH = 64
MAX_TERMS = 256

_STARTS_UNARY = frozenset({Kind.TERM, Kind.NEG, Kind.NOT, Kind.LPAREN})


def parse_query(text: str) -> ast.Query:
    """The AST of `text`; QueryError, naming the token and its position, if it is not one."""
    tokens = tokenize(text)
    if tokens[0].kind is Kind.END:
        raise QueryError("empty query: give at least one search term, e.g. status:open")
    terms = sum(1 for token in tokens if token.kind is Kind.TERM)
    if terms > MAX_TERMS:
        raise QueryError(f"too many terms ({terms}); a query may have at most {MAX_TERMS}")
    return _Parser(tokens).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> Token:
        # A method, not a property: type checkers would otherwise keep a
        # narrowed `kind` across advance().
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> ast.Query:
        node = self.or_()
        token = self.peek()
        if token.kind is Kind.RPAREN:
            raise QueryError(
                f"unexpected ')' {at(token.offset)}: it closes no '('", position=token.offset + 1
            )
        if token.kind is not Kind.END:
            raise self.unexpected(token)
        return node

    def or_(self) -> ast.Query:
        first = self.and_()
        children = [first]
        while self.peek().kind is Kind.OR:
            self.advance()
            children.append(self.and_())
        return first if len(children) == 1 else ast.Or(tuple(children), first.offset)

    def and_(self) -> ast.Query:
        first = self.unary()
        children = [first]
        while True:
            if self.peek().kind is Kind.AND:
                self.advance()
            elif self.peek().kind not in _STARTS_UNARY:
                break
            children.append(self.unary())
        return first if len(children) == 1 else ast.And(tuple(children), first.offset)

    def unary(self) -> ast.Query:
        token = self.peek()
        if token.kind in (Kind.NEG, Kind.NOT):
            self.advance()
            with self.nested(token):
                return ast.Not(self.unary(), token.offset)
        return self.primary()

    def primary(self) -> ast.Query:
        token = self.peek()
        if token.kind is Kind.TERM:
            self.advance()
            return build_term(token)
        if token.kind is Kind.LPAREN:
            self.advance()
            if self.peek().kind is Kind.RPAREN:
                raise QueryError(f"empty parentheses {at(token.offset)}", position=token.offset + 1)
            with self.nested(token):
                node = self.or_()
            if self.peek().kind is not Kind.RPAREN:
                raise QueryError(
                    f"missing ')' for the '(' {at(token.offset)}",
                    position=token.offset + 1,
                )
            self.advance()
            return node
        raise self.unexpected(token)

    def unexpected(self, token: Token) -> QueryError:
        if token.kind is Kind.END:
            return QueryError(
                f"the query ends {at(token.offset)} where a search term should follow",
                position=token.offset + 1,
            )
        if token.kind in (Kind.AND, Kind.OR):
            return QueryError(
                f"'{token.text}' {at(token.offset)} needs a search term on each side",
                position=token.offset + 1,
            )
        return QueryError(
            f"unexpected '{token.text}' {at(token.offset)}", position=token.offset + 1
        )

    def nested(self, token: Token) -> _Nesting:
        return _Nesting(self, token)


class _Nesting:
    """Counts nesting depth, so that deep input fails cleanly instead of
    overflowing the stack."""

    def __init__(self, parser: _Parser, token: Token) -> None:
        self.parser = parser
        self.token = token

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            raise QueryError(
                f"the query nests too deeply {at(self.token.offset)}; "
                f"at most {MAX_DEPTH} levels of parentheses and negation",
                position=self.token.offset + 1,
            )

    def __exit__(self, *_: object) -> None:
        self.parser.depth -= 1
