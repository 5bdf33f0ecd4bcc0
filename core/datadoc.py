"""Plain-language data documentation: Gemma drafts it from profile facts; numbers are checked.

Gemma 3 270M is a base model, so the prompt is a completion: an instruction line, one
worked example (`prompts/datadoc/examples.txt`), then this dataset's facts and an open
"Documentation:" line; generation stops at the example separator. Every sentence whose
numbers are not profile facts is dropped and listed in the flags. When nothing useful
survives (or the model fails), a deterministic text built from the profile is used and
the flags say so.
"""

from __future__ import annotations

import re

from core.factcheck import check_numbers, tidy_sentences
from core.llm.base import Backend, BackendError, GenerationParams
from core.models import ColumnProfile, DatasetProfile
from core.profile import profile_to_facts
from core.prompts import example, render

_MAX_FACT_COLUMNS = 25
# The documentation is one paragraph: a line break means the model started something else
# (usually copying the facts list).
_STOP = ("###", "\n", "Dataset:", "Facts:")
_MIN_KEPT_CHARS = 40


def _num(v: float | int | str | None) -> str:
    if v is None:
        return "?"
    if isinstance(v, str):
        return v
    if float(v).is_integer() and abs(v) < 1e15:
        # Years and small counts read better without a separator: 2007, not 2,007.
        return f"{int(v):,}" if abs(v) >= 10_000 else str(int(v))
    return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.3g}"


def _column_fact(c: ColumnProfile, leak_reason: str | None) -> str:
    parts = [f"{c.n_missing:,} missing" + (f" ({c.missing_share:.1%})" if c.n_missing else "")]
    if c.semantic in ("id", "category", "text", "boolean"):
        parts.append(f"{c.n_unique:,} distinct values")
    if c.semantic in ("numeric", "money_text", "numeric_text", "date") and c.min is not None:
        rng = f"from {_num(c.min)} to {_num(c.max)}"
        if c.mean is not None and c.semantic != "date":
            rng += f", mean {_num(c.mean)}"
        parts.append(rng)
    if c.semantic == "category" and c.top_values:
        parts.append("most common " + ", ".join(f"'{v}'" for v, _ in c.top_values[:3]))
    notes = [n for n in c.notes if not n.startswith("unique count measured")][:2]
    parts += notes
    if leak_reason:
        parts.append(f"suspected leakage: {leak_reason}")
    return f"- {c.name} ({c.semantic}): " + "; ".join(parts)


def _ranked_columns(profile: DatasetProfile, target: str | None) -> list[ColumnProfile]:
    """Target, leaky and noteworthy columns first, so a wide table's facts stay short."""
    leaky = {str(d.get("column")) for d in profile.leakage}

    def score(c: ColumnProfile) -> tuple[int, float]:
        s = 0
        if c.name == target:
            s += 100
        if c.name in leaky:
            s += 50
        if c.semantic in ("money_text", "numeric_text", "id", "date", "empty", "constant"):
            s += 10
        s += min(len(c.notes), 3) * 3
        return (-s, -c.missing_share)

    return sorted(profile.columns, key=score)[:_MAX_FACT_COLUMNS]


def profile_facts_text(profile: DatasetProfile, target: str | None = None) -> str:
    """The facts block of the prompt: one line per fact, numbers formatted as the profile has them."""
    lines = [
        f"- rows: {profile.n_rows:,}; columns: {profile.n_cols:,}; "
        f"duplicate rows: {profile.n_duplicate_rows:,}"
    ]
    if profile.sampled_from:
        lines.append(f"- profiled on a sample of {profile.n_rows:,} rows of {profile.sampled_from:,}")
    semantic = _target_semantic(profile, target)
    if semantic is not None:
        lines.append(f"- target: {target} ({semantic})")
    leaks = {str(d.get("column")): str(d.get("reason", "")) for d in profile.leakage}
    cols = _ranked_columns(profile, target)
    for c in cols:
        lines.append(_column_fact(c, leaks.get(c.name)))
    for col, reason in leaks.items():
        if col not in {c.name for c in cols}:
            lines.append(f"- {col}: suspected leakage: {reason}")
    if len(profile.columns) > len(cols):
        lines.append(f"- {len(profile.columns) - len(cols):,} more columns not listed")
    for a, b, r in profile.high_correlations[:3]:
        lines.append(f"- {a} and {b} are highly correlated (r = {r:.3f})")
    return "\n".join(lines)


def _target_semantic(profile: DatasetProfile, target: str | None) -> str | None:
    """The target column's semantic type; None without a target or when the profile lacks it."""
    if not target:
        return None
    try:
        return profile.column(target).semantic
    except KeyError:
        return None


def template_doc(profile: DatasetProfile, dataset_name: str, target: str | None = None) -> str:
    """A deterministic documentation from the profile alone (the fallback)."""
    s = [f"{dataset_name} has {profile.n_rows:,} rows and {profile.n_cols:,} columns."]
    if profile.n_duplicate_rows:
        s.append(f"{profile.n_duplicate_rows:,} rows are exact duplicates of earlier rows.")
    semantic = _target_semantic(profile, target)
    if semantic is not None:
        s.append(f"The target is {target} ({semantic}).")
    ids = [c.name for c in profile.columns if c.semantic == "id"]
    if ids:
        s.append(f"Identifier columns: {', '.join(ids[:5])}.")
    missing = sorted((c for c in profile.columns if c.n_missing), key=lambda c: -c.missing_share)
    if missing:
        top = ", ".join(f"{c.name} ({c.missing_share:.1%})" for c in missing[:4])
        s.append(f"Missing values appear in {len(missing):,} columns, most in {top}.")
    text_nums = [c.name for c in profile.columns if c.semantic in ("money_text", "numeric_text")]
    if text_nums:
        s.append(f"Numbers stored as text that need converting: {', '.join(text_nums[:5])}.")
    dates = [c for c in profile.columns if c.semantic == "date"]
    for c in dates[:2]:
        mixed = any(n.startswith("mixed date formats") for n in c.notes)
        s.append(f"{c.name} holds dates from {c.min} to {c.max}" + (" in mixed formats." if mixed else "."))
    spell = [c.name for c in profile.columns if any("spellings of" in n for n in c.notes)]
    if spell:
        s.append(f"Inconsistent spellings in: {', '.join(spell[:5])}.")
    for d in profile.leakage[:3]:
        s.append(
            f"Suspected leakage: {d.get('column')} ({d.get('reason')}); do not use it to predict the target."
        )
    return " ".join(s)


def _tidy_reply(reply: str) -> str:
    # Small models loop and stop mid-sentence: complete sentences only, each once.
    return tidy_sentences(re.sub(r"^(Documentation:)\s*", "", reply.strip()))


_IDENT = re.compile(r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b|'([^']{1,40})'")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _example_specific_words(facts_text: str, profile: DatasetProfile) -> set[str]:
    """Words that belong to the few-shot examples' data (their column names and values) and not to ours.

    A small base model likes to continue the example ("3 spellings of 'Springfield'"); its
    numbers may happen to be facts, so its words must give it away. Template words the
    examples share with our facts ("rows", "missing", "distinct") are not specific.
    """
    text = example("datadoc/examples.txt")
    example_facts = " ".join(re.findall(r"Facts:\n(.*?)\nDocumentation:", text, flags=re.S))
    example_names = " ".join(re.findall(r"Dataset: (\S+)", text))
    ours = _words(facts_text) | {w for c in profile.columns for w in _words(c.name)}
    # Short words ("on" from sold_on) are too common to prove a copy.
    return {w for w in (_words(example_facts) | _words(example_names)) - ours - _COMMON if len(w) >= 4}


# Words an honest description of any table may use even if the examples used them too.
_COMMON = _words(
    "rows row columns column duplicate duplicates exact missing distinct values value mean from to and the "
    "of a is are in with target numeric category boolean id date text money numbers stored currency signs "
    "suspected leakage correlation most common mixed formats spellings csv predict goal"
)


def _contradiction(sentence: str, profile: DatasetProfile) -> str | None:
    """'No duplicates' / 'no missing values' claims have no number to check: test them against the profile."""
    low = sentence.lower()
    if re.search(r"\bno (exact )?duplicat", low) and profile.n_duplicate_rows:
        return f"{profile.n_duplicate_rows:,} duplicate rows"
    if re.search(r"\bno (values are )?missing|\bnothing is missing|\bno missing", low):
        n_missing = sum(c.n_missing for c in profile.columns)
        if n_missing:
            return f"{n_missing:,} missing cells"
    return None


def _drop_borrowed(
    text: str, profile: DatasetProfile, facts_text: str, flags: list[str], dataset_name: str = ""
) -> str:
    """Drop sentences copied from the prompt's example or naming columns/values the data lacks.

    The number check cannot catch "City names are spelled inconsistently, with 3 spellings
    of 'Springfield'" when 3 happens to be a fact: the example's words give it away.
    """
    specific = _example_specific_words(facts_text, profile)
    known = " ".join([facts_text.lower(), dataset_name.lower(), *(c.name.lower() for c in profile.columns)])
    kept: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if not sentence.strip():
            continue
        copied = sorted(_words(sentence) & specific)
        unknown = [
            m.group(1) or m.group(0)
            for m in _IDENT.finditer(sentence)
            if (m.group(1) or m.group(0)).lower() not in known
        ]
        wrong = _contradiction(sentence, profile)
        if wrong:
            flags.append(f"Dropped a sentence that contradicts the profile ({wrong}): {sentence.strip()}")
        elif copied:
            flags.append(
                f"Dropped a sentence copied from the prompt's example ({', '.join(copied[:3])}): "
                f"{sentence.strip()}"
            )
        elif unknown:
            flags.append(
                f"Dropped a sentence naming things not in the data ({', '.join(unknown)}): {sentence.strip()}"
            )
        else:
            kept.append(sentence.strip())
    return " ".join(kept)


def draft_data_doc(
    profile: DatasetProfile,
    backend: Backend,
    dataset_name: str = "The dataset",
    target: str | None = None,
    max_tokens: int = 220,
) -> tuple[str, list[str]]:
    """(documentation text, flags). Flags list dropped sentences and whether the template was used."""
    facts_text = profile_facts_text(profile, target)
    # A sentence start primes a small base model to write prose instead of echoing the facts list.
    opening = f"{dataset_name} has {profile.n_rows:,} rows and {profile.n_cols:,} columns;"
    prompt = render(
        "datadoc/draft.j2",
        examples=example("datadoc/examples.txt"),
        dataset=dataset_name,
        facts=facts_text,
        opening=opening,
    )
    if getattr(backend.info, "chat", False):
        from core.llm.registry import format_prompt  # chat models get the same text as one user turn

        prompt = format_prompt(backend, "", prompt)
    flags: list[str] = []
    try:
        reply = backend.complete(prompt, GenerationParams(max_tokens=max_tokens, temperature=0.0, stop=_STOP))
    except BackendError as e:
        flags.append(
            f"The model could not write a draft ({e}); a text built from the profile is shown instead."
        )
        return template_doc(profile, dataset_name, target), flags
    text = _tidy_reply(opening + reply)
    allowed: set[float | str] = set(profile_to_facts(profile))
    allowed.add(facts_text)  # numbers exactly as the prompt wrote them (rounded shares, counts)
    checked = check_numbers(text, allowed)
    for sentence, bad in checked.flagged:
        nums = ", ".join(f"{b:g}" for b in bad)
        flags.append(f"Dropped a sentence with numbers not in the profile ({nums}): {sentence}")
    kept = _drop_borrowed(checked.text_kept.strip(), profile, facts_text, flags, dataset_name)
    if len(kept) < _MIN_KEPT_CHARS:
        flags.append(
            "No sentence of the model's draft passed the checks; "
            "a text built from the profile is shown instead."
        )
        return template_doc(profile, dataset_name, target), flags
    return kept, flags
