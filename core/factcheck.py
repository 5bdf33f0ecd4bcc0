"""Check that every number a model wrote is a fact we gave it.

`numbers_in` finds the numbers a reader would take as claims (1,234.5 / 12% / 0.25 /
3k / 1.2 million); dates and times, and digits inside identifiers such as `num_1` or
`Q3`, are not claims and are skipped. `check_numbers` splits text into sentences and
drops (and reports) each sentence holding a number that matches no allowed fact.
A number matches a fact when it equals it up to `rel_tol` or up to the rounding its
written precision implies ('12.3%' matches 0.1234; '1.2k' matches 1,234); percentages
are compared both as written and as shares.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Dates and times are stripped before numbers are read: they are not quantities.
_DATES = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b"
    r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s+\d{4})?"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b",
    re.I,
)
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-−+])?(?P<cur>[$€£¥])?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<pct>%|percent\b)|(?P<suf>[kKmMbB]\b)|\s(?P<word>thousand|million|billion)\b)?"
    r"(?![\w])"
)
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*-])")


@dataclass(frozen=True)
class NumberToken:
    value: float  # as a reader takes it: '12%' -> 12.0, '3k' -> 3000.0
    text: str
    percent: bool
    # Half a unit of the last written digit, in the value's scale: '12.3' -> 0.05, '3k' -> 500.
    half_unit: float


@dataclass
class CheckedText:
    text_kept: str
    flagged: list[tuple[str, list[float]]] = field(default_factory=list)
    n_numbers: int = 0  # numbers checked in the kept text plus the flagged sentences

    @property
    def ok(self) -> bool:
        return not self.flagged


def number_tokens(text: str) -> list[NumberToken]:
    clean = _DATES.sub(" ", text)
    out: list[NumberToken] = []
    for m in _NUMBER.finditer(clean):
        raw = m.group("num")
        digits = raw.replace(",", "")
        value = float(digits)
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        half = 0.5 * 10 ** (-decimals)
        scale_word = (m.group("suf") or m.group("word") or "").lower()
        if scale_word:
            value *= _SCALE[scale_word]
            half *= _SCALE[scale_word]
        if m.group("sign") in ("-", "−"):
            value = -value
        out.append(
            NumberToken(value=value, text=m.group(0).strip(), percent=bool(m.group("pct")), half_unit=half)
        )
    return out


def numbers_in(text: str) -> list[float]:
    """The numbers stated in `text` as a reader takes them ('12%' -> 12.0, '3k' -> 3000.0)."""
    return [t.value for t in number_tokens(text)]


def _facts_numbers(allowed: Iterable[object]) -> list[float]:
    nums: list[float] = []
    for a in allowed:
        if isinstance(a, bool):
            continue
        if isinstance(a, (int, float)):
            if math.isfinite(float(a)):
                nums.append(float(a))
        elif isinstance(a, str):
            # Strings (column names, top values, date ranges) carry numbers too: a year
            # from '2021-03-01' is a fact when the profile says the data starts there.
            nums += [t.value for t in number_tokens(a)]
            for d in _DATES.findall(a):
                nums += [float(x) for x in re.findall(r"\d+", d)]
            try:
                nums.append(float(a.replace(",", "")))
            except ValueError:
                pass
        else:
            try:
                f = float(a)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if math.isfinite(f):
                nums.append(f)
    return nums


def _matches(tok: NumberToken, facts: list[float], rel_tol: float) -> bool:
    candidates = [tok.value]
    halves = [tok.half_unit]
    if tok.percent:
        candidates.append(tok.value / 100)
        halves.append(tok.half_unit / 100)
    for v, half in zip(candidates, halves, strict=True):
        for f in facts:
            for fv in (f, abs(f)) if v >= 0 else (f,):
                if abs(v - fv) <= max(rel_tol * abs(fv), half, 1e-12):
                    return True
    return False


def split_sentences(text: str) -> list[str]:
    """Sentences, keeping line structure: each line is split at sentence ends."""
    parts: list[str] = []
    for line in text.splitlines(keepends=True):
        pieces = _SENTENCE_END.split(line)
        parts += pieces
    return parts


def check_numbers(
    text: str,
    allowed: Iterable[object],
    rel_tol: float = 0.01,
    always_ok: Iterable[float] = (0, 1),
) -> CheckedText:
    """Keep the sentences whose numbers all appear among `allowed`; flag and drop the rest.

    `allowed` may hold numbers and strings (numbers inside strings count). `always_ok`
    numbers need no fact ('one of the 2 ...' style small counts are not added by default).
    """
    facts = _facts_numbers(allowed) + [float(x) for x in always_ok]
    kept: list[str] = []
    flagged: list[tuple[str, list[float]]] = []
    n_numbers = 0
    for sentence in split_sentences(text):
        toks = number_tokens(sentence)
        n_numbers += len(toks)
        bad = [t.value for t in toks if not _matches(t, facts, rel_tol)]
        if bad:
            flagged.append((sentence.strip(), bad))
            # Keep the line break the dropped sentence ended with, so lists stay lists.
            if sentence.endswith("\n") and kept and not kept[-1].endswith("\n"):
                kept.append("\n")
        else:
            kept.append(sentence if sentence.endswith(("\n", " ")) or not kept else sentence)
    text_kept = ""
    for piece in kept:
        if text_kept and not text_kept.endswith(("\n", " ")) and not piece.startswith(("\n", " ")):
            text_kept += " "
        text_kept += piece
    return CheckedText(text_kept=text_kept.strip(), flagged=flagged, n_numbers=n_numbers)


def _sentence_key(sentence: str) -> str:
    """Two sentences are the same when their words are (case, spacing and punctuation aside)."""
    return " ".join(re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", sentence.lower()))


def tidy_sentences(text: str, seen: set[str] | None = None) -> str:
    """Complete sentences only, each said once.

    A small model stopped by its token limit leaves half a sentence, and it often loops on one
    sentence: the fragment after the last full stop is dropped and a repeated sentence is kept
    once. `seen` carries the sentences already used elsewhere (another section of a report),
    which are dropped here too; it is updated in place.
    """
    seen = set() if seen is None else seen
    flat = re.sub(r"\s+", " ", text or "").strip()
    ends = [m.end() for m in re.finditer(r"[.!?][\"')\]]*(?=\s|$)", flat)]
    flat = flat[: ends[-1]] if ends else ""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(flat):
        sentence = sentence.strip()
        # A quote mark the model opened before a sentence (or closed after it) and never matched.
        if sentence.count('"') % 2 == 1:
            sentence = sentence.strip('"').strip()
        if sentence.count("“") != sentence.count("”"):
            sentence = sentence.strip("“”").strip()
        key = _sentence_key(sentence)
        if key and key not in seen:
            seen.add(key)
            kept.append(sentence)
    return " ".join(kept)


# Names a reader takes for a column: snake_case words (`temp_min_c`) and quoted names.
_NAME = re.compile(r"`([^`]{1,60})`|\b([A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+)\b")


def drop_unknown_names(text: str, known: Iterable[str]) -> CheckedText:
    """Drop each sentence naming a column-like identifier that none of `known` contains.

    A small model copies the shape of a fact with a name it made up ("Column humidity_mm has 39
    missing values" where 39 is a fact): the number check passes it, the name gives it away.
    """
    haystack = " ".join(str(k) for k in known).lower()
    kept: list[str] = []
    flagged: list[tuple[str, list[float]]] = []
    for sentence in _SENTENCE_END.split(text or ""):
        names = [m.group(1) or m.group(2) for m in _NAME.finditer(sentence)]
        if any(n.lower() not in haystack for n in names):
            flagged.append((sentence.strip(), []))
        elif sentence.strip():
            kept.append(sentence.strip())
    return CheckedText(text_kept=" ".join(kept), flagged=flagged)
