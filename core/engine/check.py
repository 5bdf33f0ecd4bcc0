"""Checks code must pass before it is offered: parse, contract, lint, sandbox run on the sample,
the transform contract (rows, columns, target), the quality gate against the recipes, and the
intent of a free-form request (`core.engine.intent`).

Every failure is one line, written for the model (it is fed back in a repair) and the user.
"""

from __future__ import annotations

import ast
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.engine.intent import IntentVerdict, check_answer, check_request

# One reading of a column's kind (numbers / dates / text) for the contract and the intent checks.
from core.engine.intent_base import _kind as kind_of
from core.lint import errors, lint
from core.sandbox.base import Sandbox, SandboxJob, SandboxLimits, SandboxResult
from core.stages.spec import Contract, Kind

# Contract limits: a step may not silently drop more than these shares.
MAX_ROW_DROP = 0.30
MAX_COL_DROP = 0.50
# Verification on a sample must be quick; a step that needs longer is too slow to preview.
VERIFY_LIMITS = SandboxLimits(timeout_s=30.0, memory_mb=2048, cpu_s=60)
# Words in a request that allow a step to drop many rows or columns on purpose.
_DROP_WORDS = re.compile(
    r"\b(drop|remove|delete|filter|exclude|keep only|only keep|dedup\w*|duplicat\w*)\b", re.I
)
# A request that asks to change a column's kind ("convert price to a number", "parse when as a date").
_KIND_WORDS = {
    "numbers": re.compile(r"\b(numbers?|numeric|float|floats|integers?|int)\b", re.I),
    "dates": re.compile(r"\b(dates?|datetimes?|timestamps?)\b", re.I),
}
_CONVERT_WORDS = re.compile(r"\b(convert|parse|cast|turn|make|as|to|into)\b", re.I)


@dataclass
class Verdict:
    ok: bool
    failure: str | None = None
    refused: list[str] = field(default_factory=list)
    value: Any = None
    stdout: str = ""
    frame: pd.DataFrame | None = None  # a transform's output on the sample (for the quality gate)
    noop: bool = False  # the transform returned its input unchanged
    intent: IntentVerdict | None = None  # set when a request's intent was checked


@dataclass
class Checker:
    """Everything a check needs about one proposal: where it runs and what it must keep."""

    sandbox: Sandbox
    sample_path: Path
    sample: pd.DataFrame
    stage: str  # the stage name, or "ask" for a question
    contract: Contract
    kind: Kind | str  # "transform" | "model" | "answer"
    target: str | None = None
    request: str | None = None
    task: str | None = None  # model stage: classification / regression
    limits: SandboxLimits | None = None  # None: VERIFY_LIMITS as it is when the check runs

    def __call__(self, code: str, allow_noop: bool = True) -> Verdict:
        """Every check code must pass before it is shown as verified; the failure is one line."""
        static = self._static(code)
        if static is not None:
            return static
        if self.kind == "model":
            return self._model(code)
        if self.kind == "answer":
            return self._answer(code)
        return self._transform(code, allow_noop)

    def _static(self, code: str) -> Verdict | None:
        entry = self.contract.entry
        if not code.strip():
            return Verdict(False, "no code found in the reply")
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            return Verdict(False, f"syntax error on line {e.lineno}: {e.msg}")
        if not any(isinstance(n, ast.FunctionDef) and n.name == entry for n in tree.body):
            return Verdict(False, f"the code does not define {entry}(...)")
        findings = errors(lint(code))
        if findings:
            refused = [f.message for f in findings]
            return Verdict(False, "refused by the safety check: " + refused[0], refused=refused)
        return None

    def _model(self, code: str) -> Verdict:
        if not self.target or self.target not in self.sample.columns:
            return Verdict(False, "the model stage needs a target column present in the data")
        job = self._job(model_check_code(code, self.target, self.task), "script", "_verify_build_model")
        res = self.sandbox.run(job)
        if not res.ok:
            return Verdict(False, sandbox_failure(res, code, self.sample))
        return Verdict(True, value=res.value, stdout=res.stdout)

    def _answer(self, code: str) -> Verdict:
        res = self.sandbox.run(self._job(code, "script", self.contract.entry))
        if not res.ok:
            return Verdict(False, sandbox_failure(res, code, self.sample))
        verdict = Verdict(True, value=res.value, stdout=res.stdout)
        if self.request:
            return with_intent(verdict, check_answer(self.request, res.value, self.sample))
        return verdict

    def _transform(self, code: str, allow_noop: bool) -> Verdict:
        out_path = self.sample_path.with_name(f"out-{uuid.uuid4().hex[:10]}.parquet")
        res = self.sandbox.run(self._job(code, "transform", self.contract.entry, out_path))
        if not res.ok:
            return Verdict(False, sandbox_failure(res, code, self.sample))
        try:
            out = pd.read_parquet(res.output_path or out_path)
        except Exception as e:  # noqa: BLE001 - any unreadable output is a contract failure
            return Verdict(False, f"the result could not be read back: {e}")
        finally:
            Path(res.output_path or out_path).unlink(missing_ok=True)
        failure = contract_failure(self.sample, out, self.target, self.request, allow_noop)
        failure = failure or request_failure(self.sample, out, self.request)
        verdict = Verdict(failure is None, failure, stdout=res.stdout, frame=out, noop=same(self.sample, out))
        if verdict.ok and self.request:
            return with_intent(verdict, check_request(self.request, self.stage, self.sample, out))
        return verdict

    def _job(self, code: str, mode: str, entry: str, output_path: Path | None = None) -> SandboxJob:
        return SandboxJob(
            code=code, mode=mode, entrypoint=entry, input_path=self.sample_path, output_path=output_path,
            limits=self.limits or VERIFY_LIMITS,
        )  # fmt: skip


def with_intent(verdict: Verdict, intent: IntentVerdict) -> Verdict:
    """A code that runs but is shown NOT to do what was asked is a failed attempt (it gets repaired)."""
    verdict.intent = intent
    if intent.state == "failed":
        verdict.ok = False
        verdict.failure = f"it does not do what was asked: {intent.reason or 'the request check failed'}"
    return verdict


def model_check_code(code: str, target: str, task: str | None) -> str:
    """Model code + a trusted check: build, fit on a few hundred rows, score (script mode)."""
    return (
        code.rstrip()
        + "\n\n\ndef _verify_build_model(df):\n"
        + "    from core.modeling_prep import detect_task, prepare_features, prepare_target\n"
        + f"    data = df.dropna(subset=[{target!r}]).head(400)\n"
        + f"    y = data[{target!r}]\n"
        + f"    task = {task!r} or detect_task(y)\n"
        + f"    X, _ = prepare_features(data.drop(columns=[{target!r}]))\n"
        + "    y, _ = prepare_target(y, task)\n"
        + "    model = build_model(X)\n"
        + "    if not hasattr(model, 'fit'):\n"
        + "        raise TypeError('build_model must return an unfitted scikit-learn estimator')\n"
        + "    model.fit(X, y)\n"
        + "    return {'estimator': type(model).__name__, 'train_score': float(model.score(X, y))}\n"
    )


def sandbox_failure(res: SandboxResult, code: str = "", sample: pd.DataFrame | None = None) -> str:
    kind = f"{res.error_kind}: " if res.error_kind and res.error_kind not in ("exception",) else ""
    message = f"{kind}{res.error or 'the code failed in the sandbox'}"
    if sample is not None and "KeyError" in message:
        # Name the real columns: the error alone does not tell a small model what to use instead.
        unknown = [f.message.split(": ", 1)[1] for f in lint(code, [str(c) for c in sample.columns])
                   if f.rule == "unknown-column"]  # fmt: skip
        if unknown:
            message += " (" + "; ".join(dict.fromkeys(unknown)) + ")"
        else:
            message += f" (the columns are: {', '.join(map(str, list(sample.columns)[:20]))})"
        message += _value_hint(message, sample)
    return message + _accessor_hint(message)


def _value_hint(message: str, sample: pd.DataFrame) -> str:
    """A value used as a column (`df["Diesel"]` for rows whose FuelType is "Diesel"), the commonest
    KeyError of a small model: say which column holds it and how to filter on it."""
    hints = []
    for key in dict.fromkeys(re.findall(r"(?:KeyError: |column )'([^']{1,80})'", message)):
        if key in map(str, sample.columns):
            continue
        holders = []
        for c in sample.columns:
            col = sample[c]
            if col.dtype != object and not isinstance(col.dtype, pd.CategoricalDtype):
                continue
            values = col.dropna().unique()
            if len(values) > 500:
                continue
            hit = [v for v in values if isinstance(v, str) and v.strip().casefold() == key.strip().casefold()]
            if hit:
                holders.append((str(c), hit[0]))
        if len(holders) == 1:
            c, v = holders[0]
            hints.append(f"{key!r} is a value of column {c!r}, not a column: df[df[{c!r}] == {v!r}]")
    return " (" + "; ".join(hints) + ")" if hints else ""


_NO_ATTRIBUTE = re.compile(r"'(Series|DataFrame)' object has no attribute '(\w+)'")


def _accessor_hint(message: str) -> str:
    """A Series method called that lives on its .str or .dt accessor (`s.lower()`, `s.year`), or on
    a whole frame (`df.lower()`): the error names the attribute, not where it is, and a small model
    repeats the call when repairing."""
    m = _NO_ATTRIBUTE.search(message)
    if m is None or m.group(2).startswith("_"):
        return ""
    owner, name = m.groups()
    for accessor, dot, what in ((pd.Series.str, ".str", "text methods"), (pd.Series.dt, ".dt", "date parts")):
        if hasattr(accessor, name):
            use = f"{dot}.{name}{'()' if callable(getattr(accessor, name)) else ''}"
            if owner == "DataFrame":
                return f' ({what} work on one column: df["col"]{use})'
            return f" ({what} go through {dot}: {use})"
    return ""


def _distinct_rows(df: pd.DataFrame) -> int:
    try:
        return int((~df.duplicated()).sum())
    except TypeError:  # unhashable cells (lists, dicts from JSON): count every row
        return len(df)


def contract_failure(
    before: pd.DataFrame, after: pd.DataFrame, target: str | None, request: str | None, allow_noop: bool
) -> str | None:
    """Why `after` breaks the transform contract, or None."""
    allow_drop = bool(request and _DROP_WORDS.search(request))
    if target and target in before.columns:
        if target not in after.columns:
            return f"the target column {target!r} was removed"
        if after[target].isna().all() and not before[target].isna().all():
            return f"the target column {target!r} became all missing"
    # Exact duplicate rows carry no information: removing them is not a loss of rows, so the
    # limit is measured against the distinct rows (a table that is 80% duplicates may shrink).
    distinct = _distinct_rows(before)
    if distinct and not allow_drop and len(after) < (1 - MAX_ROW_DROP) * distinct:
        return (
            f"{len(before) - len(after)} of {len(before)} rows were dropped "
            f"(more than {MAX_ROW_DROP:.0%} of the distinct rows needs an explicit request)"
        )
    if len(after) == 0 and len(before):
        return "every row was dropped"
    # Columns are counted, not matched by name: replacing x by log1p_x is not a removal.
    n_before, n_after = before.shape[1], after.shape[1]
    if n_before and not allow_drop and n_after < (1 - MAX_COL_DROP) * n_before:
        return (
            f"{n_before - n_after} of {n_before} columns were removed "
            f"(more than {MAX_COL_DROP:.0%} needs an explicit request)"
        )
    blown = [
        str(c)
        for c in after.columns
        if len(after) and after[c].isna().all() and (c not in before.columns or not before[c].isna().all())
    ]
    if blown:
        return f"column(s) {', '.join(blown[:5])} became all missing"
    if not allow_noop and same(before, after):
        return "the code changed nothing"
    return None


def request_failure(before: pd.DataFrame, after: pd.DataFrame, request: str | None) -> str | None:
    """Running is not doing what was asked: when the request names one column and the kind it
    should become, that column must have become it (a model that only strips "$" signs and leaves
    text behind has not converted anything)."""
    if not request or not _CONVERT_WORDS.search(request):
        return None
    named = [c for c in before.columns if re.search(rf"(?<!\w){re.escape(str(c))}(?!\w)", request)]
    wanted = [kind for kind, words in _KIND_WORDS.items() if words.search(request)]
    if len(named) != 1 or len(wanted) != 1 or named[0] not in after.columns:
        return None  # ambiguous requests are judged by the intent check and the user
    column, kind = named[0], wanted[0]
    if kind_of(after[column]) != kind:
        return f"the request asks for {column!r} as {kind}, but it is still {kind_of(after[column])}"
    return None


def coverage_failure(reference: pd.DataFrame, candidate: pd.DataFrame, target: str | None) -> str | None:
    """The quality gate for Gemma's stage code: it must fix what the recipe plan fixes.

    Measured on the sample against the recipes' own output: every column both keep must have
    the same kind (numbers / dates / text), no more missing cells may remain, and no more
    duplicate rows.
    """
    for col in reference.columns:
        if col in candidate.columns and col != target:
            want, got = kind_of(reference[col]), kind_of(candidate[col])
            if want != got:
                return f"column {col!r} is still {got} (the plan turns it into {want})"
    shared = [c for c in reference.columns if c in candidate.columns]
    ref_missing = int(reference[shared].isna().sum().sum())
    got_missing = int(candidate[shared].isna().sum().sum())
    if got_missing > ref_missing + max(1, 0.01 * reference[shared].size):
        return f"{got_missing - ref_missing} more missing cells remain than the plan leaves"
    extra_dups = int(candidate.duplicated().sum()) - int(reference.duplicated().sum())
    if extra_dups > 0:
        return f"{extra_dups} duplicate rows remain (the plan drops them)"
    return None


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return False
    try:
        return bool(a.reset_index(drop=True).equals(b.reset_index(drop=True)))
    except Exception:  # noqa: BLE001
        return False
