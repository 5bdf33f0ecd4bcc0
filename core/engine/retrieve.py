"""Few-shot examples retrieved from the verified bank, with the user's real column names.

The bank (`prompts/bank/examples.jsonl`, written by `core.tuning.pairs`) holds one verified pair
per line: task, request, the columns it uses, the table context and the code. `examples_for`
ranks the bank's examples of the same task by BM25 over the request's words with the column names
masked ("add the ratio of col to col" matches "add the ratio of col to col" whatever the columns
are called) plus the semantic types of the columns the example uses, takes the k best with
different code, and -- where the mapping is clear, i.e. the user's request names as many columns
as the example's -- substitutes the user's column names for the example's in its request,
context lines and code. A 270M model copies what it sees; an example that already uses the
user's columns is the strongest hint there is (LIDA and Data Interpreter make the same point).

The index is built once per bank file (cached by path and modification time). No bank file:
"" (the engine then uses its static few-shot files or none).
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.engine.intent_base import columns_named

BANK = Path(__file__).resolve().parents[2] / "prompts" / "bank" / "examples.jsonl"
_K1, _B = 1.2, 0.75  # BM25's usual constants
RELATIVE_FLOOR = 0.6  # examples scoring under this share of the best one are left out
# Words that say nothing about what to do; dropping them keeps "the"/"a" from deciding ties.
_STOP = frozenset(
    "a an the of to in on for by with and or as is are be it its this that column columns".split()
)
_SEMANTIC = re.compile(r"^- (.+?) \((?:TARGET, )?([a-z_]+)")


@dataclass(frozen=True)
class Example:
    task: str
    request: str
    columns: tuple[str, ...]  # the columns the example's request names, in request order
    context: str
    code: str
    tokens: tuple[str, ...]


@dataclass
class _Index:
    examples: list[Example]
    df: dict[str, int]
    avg_len: float
    key: tuple[str, float]


_lock = threading.Lock()
_cache: dict[str, _Index] = {}


def _tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", text.casefold()) if t not in _STOP]


def _mask(request: str, names: Sequence[str]) -> str:
    """The request with every named column replaced by the word "col"."""
    out = request
    for name in sorted(names, key=len, reverse=True):
        out = _name_pattern(name).sub(" col ", out)
    return out


def _name_pattern(name: str, ignore_case: bool = True) -> re.Pattern[str]:
    # "total_charges" is also said "total charges" or "Total-Charges".
    parts = [re.escape(p) for p in re.split(r"[\s_\-]+", name.strip()) if p]
    return re.compile(r"(?<![\w])" + r"[\s_\-]+".join(parts) + r"(?![\w])", re.I if ignore_case else 0)


def _types(context: str, names: Sequence[str]) -> list[str]:
    """The semantic types ("numeric", "date", "money_text" ...) of `names` in a context text."""
    want = {n.casefold() for n in names}
    out = []
    for line in context.splitlines():
        m = _SEMANTIC.match(line.strip())
        if m and m.group(1).casefold() in want:
            out.append("type_" + m.group(2))
    return out


def _load(path: Path) -> _Index:
    examples: list[Example] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn line (the bank is being rewritten) is skipped, not fatal
            request, code = str(r.get("request") or ""), str(r.get("code") or "")
            if not request or not code:
                continue
            used = [str(c) for c in r.get("columns") or []]
            named = tuple(columns_named(request, used))
            context = str(r.get("context") or "")
            toks = _tokens(_mask(request, used)) + _types(context, named)
            examples.append(Example(str(r.get("task") or ""), request, named, context, code, tuple(toks)))
    df: Counter[str] = Counter()
    for e in examples:
        df.update(set(e.tokens))
    avg = sum(len(e.tokens) for e in examples) / max(1, len(examples))
    return _Index(examples, dict(df), avg or 1.0, (str(path), path.stat().st_mtime))


def _index(path: Path) -> _Index | None:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    with _lock:
        cached = _cache.get(str(path))
        if cached is None or cached.key != (str(path), mtime):
            cached = _cache[str(path)] = _load(path)
        return cached


def _bm25(index: _Index, query: list[str], e: Example) -> float:
    n = len(index.examples)
    tf = Counter(e.tokens)
    score = 0.0
    for t in set(query):
        if t not in tf:
            continue
        idf = math.log(1 + (n - index.df[t] + 0.5) / (index.df[t] + 0.5))
        f = tf[t]
        score += idf * f * (_K1 + 1) / (f + _K1 * (1 - _B + _B * len(e.tokens) / index.avg_len))
    return score


def _substitute_code(code: str, mapping: dict[str, str]) -> str:
    """Rename columns inside the code's string literals only (never identifiers or keywords).

    A name is replaced where it stands alone or as a part of a derived name ("log_income" ->
    "log_tenure"), all names at once so that swapping two names cannot chain.
    """
    if not mapping:
        return code
    alternation = "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True))
    inner = re.compile(rf"(?<![A-Za-z0-9])({alternation})(?![A-Za-z0-9])")

    def literal(m: re.Match[str]) -> str:
        return inner.sub(lambda n: mapping[n.group(1)], m.group(0))

    return re.sub(r"(\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*')", literal, code)


def _render(e: Example, mapping: dict[str, str]) -> str:
    request = e.request
    for old, new in mapping.items():
        # Case-sensitive first: in "rename the column symbol as SYMBOL" only the column is renamed.
        exact = _name_pattern(old, ignore_case=False)
        pattern = exact if exact.search(request) else _name_pattern(old)
        request = pattern.sub(lambda _m, new=new: new, request, count=1)
    # Only the columns the example uses, by name and kind: another table's row counts, ranges,
    # samples and target would be noise (and tokens) in the user's prompt.
    lines = ["Columns:"]
    for line in e.context.splitlines():
        m = _SEMANTIC.match(line.strip())
        if m is not None and m.group(1) in e.columns:
            lines.append(f"- {mapping.get(m.group(1), m.group(1))} ({m.group(2)})")
    context = "\n".join(lines)
    code = _substitute_code(e.code.rstrip("\n"), mapping)
    return f"### Task: {e.task}\n### Table\n{context}\n### Request: {request}\n### Code\n{code}\n"


def examples_for(
    task: str, request: str | None, columns: Sequence[str], k: int = 2, bank: Path | None = None
) -> str:
    """The k bank examples nearest to `request` for `task`, rendered for the prompt's examples slot.

    `columns` are the user's table's column names (an entry "name (type)" is read as its name).
    Returns "" when there is no bank, no request, or nothing of this task in it.
    """
    if not request or not request.strip() or k <= 0:
        return ""
    index = _index(bank or BANK)
    if index is None:
        return ""
    names = [re.sub(r"\s+\([^)]*\)\s*$", "", str(c)) for c in columns]
    named = columns_named(request, names)
    query = _tokens(_mask(request, named))
    if not query:
        return ""
    pool = [e for e in index.examples if e.task == task]
    scored = sorted(
        (
            (_bm25(index, query, e) + (0.5 if len(e.columns) == len(named) else 0.0), i)
            for i, e in enumerate(pool)
        ),
        key=lambda s: (-s[0], s[1]),
    )
    chosen: list[str] = []
    seen: set[str] = set()
    best = scored[0][0] if scored else 0.0
    for score, i in scored:
        # An example far from the best one is a distractor (a difference shown for a ratio).
        if score <= 0 or score < RELATIVE_FLOOR * best or len(chosen) >= k:
            break
        e = pool[i]
        clear = bool(named) and len(e.columns) == len(named)
        mapping = dict(zip(e.columns, named, strict=True)) if clear else {}
        text = _render(e, mapping)
        code_key = _substitute_code(e.code, mapping)
        if code_key in seen:
            continue
        seen.add(code_key)
        chosen.append(text)
    # The nearest example goes last, right before the user's own request (small models weigh
    # what they read last the most).
    return "\n".join(reversed(chosen))


def clear_cache() -> None:
    """Forget the loaded bank (tests; a rewritten bank is also noticed by its modification time)."""
    with _lock:
        _cache.clear()
