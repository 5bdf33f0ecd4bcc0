"""Grounded decoding: a grammar under which Gemma can only subscript the table with real names.

A small model's commonest mistake is a column that is not there (`df["cylinders"]` on a table
whose column is `Cylinders`, `df["petal_length"]` for `petal length (cm)`), and repairs rarely
fix it: the model reads "did you mean 'Cylinders'?" and writes `cylinders` again. Under this
grammar a string subscript (`x["…"]`, `x[["…", "…"]]`) must be one of the table's columns (or
one of the values the profile shows, so `value_counts()["rain"]` still works); the model then
picks, token by token, the most likely *real* name. Everything else is free text: strings in
calls, list literals (`labels=["low", "high"]`), dict keys, comments.

For transform stages a statement may start by assigning a new column (`df["ratio"] = …`): that
subscript is free, but only when the statement really is an assignment (`"] = ` follows).

GBNF as llama.cpp reads it (`llama_cpp.LlamaGrammar.from_string`); a backend without grammars
ignores it. The grammar tracks only two states — after an expression that can be subscripted
(a name, `)` or `]`: a `[` there is a subscript) and elsewhere (a `[` starts a list literal).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from core.llm.gguf import gbnf_literal

# Kept short: the grammar is checked against every candidate token at every step.
MAX_NAMES = 400


def _names_rule(names: Iterable[str]) -> str | None:
    seen: dict[str, None] = {}
    for n in names:
        s = str(n)
        if s and "\n" not in s and len(seen) < MAX_NAMES:
            seen.setdefault(s, None)
    dq = [n for n in seen if '"' not in n and "\\" not in n]
    sq = [n for n in seen if "'" not in n and "\\" not in n]
    alts = [gbnf_literal('"' + n + '"') for n in dq] + [gbnf_literal("'" + n + "'") for n in sq]
    return " | ".join(alts) if alts else None


def code_grammar(columns: Iterable[str], values: Iterable[str] = (), new_columns: bool = False) -> str:
    """A GBNF grammar for a function body whose string subscripts name real columns or values.

    `columns`: the table's column names; `values`: other strings a subscript may name (the
    categorical values the context shows); `new_columns`: a statement may assign a new column.
    """
    names = _names_rule([*map(str, columns), *map(str, values)])
    if names is None:  # nothing to ground on: no constraint at all
        return "root ::= [^\\x00]*\n"
    assign = " | nl asg a" if new_columns else ""
    assign_b = " | nl asg a" if new_columns else ""
    rules = [
        # The reply starts right after the function header: its first statement may assign too.
        "root ::= a | sp* asg a" if new_columns else "root ::= a",
        # a: after an operator, a space, a string or a number (or at the start): `[` opens a list.
        f'a ::= "" | x a | y b | nl a{assign}',
        # b: after a name, `)` or `]`: `[` is a subscript, grounded.
        f'b ::= "" | sub | z a | str a | y b | nl a{assign_b}',
        'x ::= sp | op | str | num | cmt | "["',
        "z ::= sp | op | num | cmt",
        "y ::= id | cl",
        "sp ::= [ \\t]",
        'nl ::= "\\n" [ ]*',
        "op ::= [^a-zA-Z0-9_ \\t\\n\\[\\])}\"'#]",
        "cl ::= [\\])}]",
        "id ::= [a-zA-Z_] [a-zA-Z0-9_]*",
        "num ::= [0-9]+",
        'cmt ::= "#" [^\\n]*',
        "str ::= dq | sq",
        'dq ::= "\\"" ( [^"\\\\\\n] | "\\\\" [^\\n] )* "\\""',
        'sq ::= "\'" ( [^\'\\\\\\n] | "\\\\" [^\\n] )* "\'"',
        # A subscript: a real name, a list of real names, or anything that does not start a string.
        'sub ::= "[" ( name a | names a | z a | y b | nl a )',
        f"name ::= {names}",
        'names ::= "[" sp* name ( sp* "," sp* name )* sp* ","? sp* "]"',
    ]
    if new_columns:
        rules.append('asg ::= id "[" ( "\\"" [^"\\n]+ "\\"" | "\'" [^\'\\n]+ "\'" ) "] = "')
    return "\n".join(rules) + "\n"


# Categorical values a subscript may name (`counts["rain"]`): only short lists of short labels.
VALUE_COLUMNS_MAX_DISTINCT = 30
VALUE_MAX_CHARS = 40


@dataclass(frozen=True)
class Grounding:
    """The names code over one table may subscript with, and the grammar that enforces them.

    Decoding under the grammar costs a few times the unconstrained speed on a CPU (every candidate
    token is matched against it), so the engine decodes freely first and uses the grammar only to
    write again a reply that `unknown` shows to name something the table does not have."""

    names: frozenset[str]
    new_columns: bool
    grammar: str

    def unknown(self, code: str) -> list[str]:
        """String subscripts in `code` that are neither a real name nor a column the code assigns."""
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return []  # the checker reports the syntax error; nothing to ground here
        assigned: set[str] = set()
        loaded: list[str] = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Subscript):
                continue
            keys = node.slice.elts if isinstance(node.slice, ast.List) else [node.slice]
            for key in keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    (assigned.add if isinstance(node.ctx, ast.Store) else loaded.append)(key.value)
        allowed = self.names | (assigned if self.new_columns else set())
        return [k for k in dict.fromkeys(loaded) if k not in allowed]


def grounding(frame: pd.DataFrame, new_columns: bool) -> Grounding:
    """The names and grammar for code over `frame` (the engine's sample of the user's table)."""
    values: list[str] = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        distinct = s.dropna().astype(str).unique()
        if len(distinct) <= VALUE_COLUMNS_MAX_DISTINCT:
            values.extend(v for v in distinct if len(v) <= VALUE_MAX_CHARS)
    columns = [str(c) for c in frame.columns]
    return Grounding(
        frozenset(columns) | frozenset(values),
        new_columns,
        code_grammar(columns, values, new_columns=new_columns),
    )
