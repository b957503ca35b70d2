"""Model formulas in lme4's notation: fixed terms and random-effect terms."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from .errors import LmmInputError

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"


@dataclass(frozen=True)
class RandomTerm:
    """One ``(coefficients | group)`` term: a covariance matrix shared by the group's levels."""

    group: tuple[str, ...]  # grouping columns, joined by ':' (an interaction of them)
    intercept: bool
    slopes: tuple[str, ...]  # numeric columns with a random slope
    text: str

    @property
    def label(self) -> str:
        return ":".join(self.group)

    @property
    def coefficients(self) -> tuple[str, ...]:
        return (("(Intercept)",) if self.intercept else ()) + self.slopes

    @property
    def size(self) -> int:
        return len(self.coefficients)


@dataclass(frozen=True)
class Formula:
    """A parsed model formula: outcome, fixed terms (tuples of variables) and random terms."""

    text: str
    outcome: str
    terms: tuple[tuple[str, ...], ...]  # fixed terms, R's order: by degree, then appearance
    random: tuple[RandomTerm, ...]

    @property
    def groups(self) -> tuple[tuple[str, ...], ...]:
        return tuple(term.group for term in self.random)

    @property
    def variables(self) -> list[str]:
        seen: list[str] = []
        for name in itertools.chain(*self.terms):
            if name not in seen:
                seen.append(name)
        return seen

    @property
    def slope_variables(self) -> list[str]:
        return sorted({name for term in self.random for name in term.slopes})


def _split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def _random_terms(piece: str, fail) -> list[RandomTerm]:
    """``(1 | g)``, ``(1 + x | g)``, ``(x | g)``, ``(0 + x | g)``, ``(1 | g:h)``, ``(1 | g/h)``,
    ``||``."""
    inner = re.fullmatch(r"\((.*?)(\|\|?)(.*)\)", piece)
    if not inner:
        fail("random terms written (1 | group) or (1 + x | group)", piece)
    lhs, bars, rhs = inner.group(1), inner.group(2), inner.group(3).strip()
    tokens = [token.strip() for token in lhs.replace("-1", "+0").split("+")]
    if not all(tokens):
        fail(f"coefficients joined by '+' left of '|' in {piece}", lhs.strip())
    intercept = "0" not in tokens
    slopes = []
    for token in tokens:
        if token in ("0", "1"):
            continue
        if not re.fullmatch(_NAME, token):
            fail(f"'1', '0' or a column name left of '|' in {piece}", token)
        if token in slopes:
            fail(f"each coefficient once in {piece}", token)
        slopes.append(token)
    if not intercept and not slopes:
        fail(f"at least one coefficient left of '|' in {piece}", lhs.strip())
    nested = [part.strip() for part in rhs.split("/")]
    groups = []
    for i in range(len(nested)):
        names = [name.strip() for part in nested[: i + 1] for name in part.split(":")]
        if not all(re.fullmatch(_NAME, name) for name in names) or len(set(names)) != len(names):
            fail(f"column names joined by ':' or '/' as the grouping in {piece}", rhs)
        groups.append(tuple(names))
    terms = []
    for group in groups:
        if bars == "||":  # uncorrelated: one term per coefficient, as lme4 expands it
            if intercept:
                terms.append(RandomTerm(group, True, (), piece))
            terms.extend(RandomTerm(group, False, (name,), piece) for name in slopes)
        else:
            terms.append(RandomTerm(group, intercept, tuple(slopes), piece))
    return terms


def parse_formula(formula: str, source: str = "formula") -> Formula:
    """Parse ``outcome ~ a * b + c:d + (1 | g) + (1 + x | g) + (1 | g/h)``.

    Fixed part: ``+``, ``*`` (main effects and all interactions), ``:`` (interaction only), an
    optional ``1`` (the intercept is always in the model). Random part: intercepts and numeric
    slopes, correlated ``(1 + x | g)`` or not (``(1 | g) + (0 + x | g)``, ``||``), groupings that
    are interactions ``g:h`` or nested ``g/h`` (= ``g`` and ``g:h``); crossed terms are allowed.
    """
    where = f"formula {formula!r}"

    def fail(expected, got):
        raise LmmInputError(source, where, None, expected, got)

    if not isinstance(formula, str) or formula.count("~") != 1:
        fail("one '~' between the outcome and the model terms", formula)
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not re.fullmatch(_NAME, lhs):
        fail("a column name left of '~'", lhs)
    if rhs.count("(") != rhs.count(")"):
        fail("balanced parentheses", rhs)
    fixed: list[tuple[str, ...]] = []
    random: list[RandomTerm] = []
    order: list[str] = []  # variables in order of first appearance (R orders interactions so)
    for piece in _split_top(rhs, "+"):
        if not piece:
            fail("a term between each '+'", rhs)
        if piece.startswith("("):
            for term in _random_terms(piece, fail):
                clash = [
                    t
                    for t in random
                    if t.group == term.group and set(t.coefficients) & set(term.coefficients)
                ]
                if clash:
                    fail(f"each random coefficient once per grouping (term {term.text})", piece)
                random.append(term)
            continue
        if piece == "1":
            continue
        if piece in ("0", "-1") or "-" in piece:
            fail("a model with an intercept and no '-' terms", piece)
        if "*" in piece and ":" in piece:
            fail("either '*' or ':' within one term (write the terms out)", piece)
        names = [name.strip() for name in re.split(r"[*:]", piece)]
        if not all(re.fullmatch(_NAME, name) for name in names) or len(set(names)) != len(names):
            fail("distinct column names joined by '*' or ':'", piece)
        for name in names:
            if name not in order:
                order.append(name)
        if "*" in piece:
            for size in range(1, len(names) + 1):
                fixed.extend(itertools.combinations(names, size))
        else:
            fixed.append(tuple(names))
    if lhs in order or any(lhs in term.group or lhs in term.slopes for term in random):
        fail("the outcome only left of '~'", lhs)
    unique: list[tuple[str, ...]] = []
    for term in fixed:
        term = tuple(sorted(term, key=order.index))
        if term not in unique:
            unique.append(term)
    unique.sort(key=len)  # stable: R puts main effects first, then 2-way, ...
    if not random:
        fail("at least one random term, e.g. a random intercept (1 | group)", rhs)
    return Formula(formula, lhs, tuple(unique), tuple(random))
