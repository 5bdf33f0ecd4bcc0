"""The proposal engine: context -> Gemma -> extract -> lint -> sandbox on a sample -> contract checks
-> repair (bounded) -> recipe fallback, with honest provenance and every attempt recorded.

Gemma never gets a blank page: stage proposals give it a scaffold (few-shot examples, the data
description, a plan of steps derived from the recipes and the function header to continue), or
ask it only to choose among recipes. Nothing reaches the user unverified: every piece of code,
Gemma's or a recipe's, passes the same `verify` before it is marked `verified=True`.

Provenance, precisely:
- "gemma": Gemma wrote the code (continuing our scaffold) and it verified on the first try;
- "gemma-repaired": Gemma's code verified after N repair rounds (error fed back);
- "rule": the code was rendered from recipes. Detail says why: "recipes selected by Gemma"
  (Gemma only chose which recipes), "rule (Gemma's proposal failed: <reason>)" or
  "rule (no Gemma proposal requested)".
"""

from __future__ import annotations

import ast
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core import prompts
from core.context import PromptContext, build_context, named_in, profile_frame
from core.extract import complete_scaffold, extract_code, strip_end_tokens
from core.lint import errors, lint
from core.llm.base import Backend, BackendError, GenerationParams
from core.models import Attempt, DatasetProfile, Project, Proposal, Provenance
from core.recipes import CONTRACTS, Recipe, recipes_for, render_stage
from core.recipes import clean as clean_recipes
from core.recipes import feature as feature_recipes
from core.sandbox.base import Sandbox, SandboxJob, SandboxLimits

# Contract limits: a step may not silently drop more than these shares.
MAX_ROW_DROP = 0.30
MAX_COL_DROP = 0.50
# Verification on a sample must be quick; a step that needs longer is too slow to preview.
VERIFY_LIMITS = SandboxLimits(timeout_s=30.0, memory_mb=2048, cpu_s=60)
STOPS = ("\n###", "\ndef ", "\n```", "<end_of_turn>", "<eos>", "\nif __name__")
MAX_TOKENS = {"clean": 380, "feature": 320, "model": 320, "ask": 200}
# Free-form requests and repairs are short: a few lines; long outputs only loop (and cost time).
REQUEST_TOKENS = 160
REPAIR_TOKENS = 240
# Measured with `python -m core eval` (see README): which technique each stage uses by default.
DEFAULT_TECHNIQUE = {"clean": "select", "feature": "select", "model": "select"}
# Words in a request that allow a step to drop many rows or columns on purpose.
_DROP_WORDS = re.compile(
    r"\b(drop|remove|delete|filter|exclude|keep only|only keep|dedup\w*|duplicat\w*)\b", re.I
)
_TRANSFORM = ("clean", "feature")
# A request that asks to change a column's kind ("convert price to a number", "parse when as a date").
_KIND_WORDS = {
    "numbers": re.compile(r"\b(numbers?|numeric|float|floats|integers?|int)\b", re.I),
    "dates": re.compile(r"\b(dates?|datetimes?|timestamps?)\b", re.I),
}
_CONVERT_WORDS = re.compile(r"\b(convert|parse|cast|turn|make|as|to|into)\b", re.I)


class ProposeError(RuntimeError):
    """The engine could not even start (no data); the message is for the user."""


class AskError(RuntimeError):
    """A question could not be answered with verified code; carries the attempts."""

    def __init__(self, message: str, attempts: list[Attempt]) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass
class Verdict:
    ok: bool
    failure: str | None = None
    refused: list[str] = field(default_factory=list)
    value: Any = None
    stdout: str = ""
    frame: pd.DataFrame | None = None  # a transform's output on the sample (for the quality gate)
    noop: bool = False  # the transform returned its input unchanged


# --------------------------------------------------------------------------- prompts
def format_prompt(backend: Backend, system: str, user: str) -> str:
    """Chat template vs plain completion, via the registry when it exists."""
    try:
        from core.llm.registry import format_prompt as registry_format
    except ImportError:
        registry_format = None
    if registry_format is not None:
        return registry_format(backend, system, user)
    if getattr(backend.info, "chat", False):
        return f"<start_of_turn>user\n{system}\n\n{user}<end_of_turn>\n<start_of_turn>model\n"
    return f"{system}\n\n{user}" if system else user


def scaffold_prefix(stage: str, first_comment: str | None = None) -> str:
    """Imports + the contract's function header (+ `df = df.copy()`): the stub Gemma continues."""
    entry, arg, signature = CONTRACTS[stage]
    prefix = "import numpy as np\nimport pandas as pd\n\n\n" + signature + "\n"
    if stage in _TRANSFORM:
        prefix += f"    {arg} = {arg}.copy()\n"
    if first_comment:
        prefix += f"    # {first_comment}\n"
    return prefix


def _plan_line(r: Recipe) -> str:
    cols = r.applies_to or r.params.get("columns") or []
    shown = ", ".join(map(str, cols[:6])) + (f" (+{len(cols) - 6} more)" if len(cols) > 6 else "")
    return f"{r.title}: {shown}" if shown else r.title


def _budget(backend: Backend | None, reserve: int) -> int:
    ctx = getattr(getattr(backend, "info", None), "context_size", 2048) or 2048
    return max(200, min(700, ctx - reserve))


def _count(backend: Backend | None):  # noqa: ANN202 - a token counter
    if backend is None:
        return None
    return backend.count_tokens


# --------------------------------------------------------------------------- data
def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, Path)):
        path = Path(data)
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        from core.io import load_table

        return load_table(path).df
    raise ProposeError("no data to propose on: pass the current table (data=...)")


def _write_sample(df: pd.DataFrame, sandbox: Sandbox, sample_rows: int) -> tuple[Path, pd.DataFrame]:
    """A random sample (fixed seed) as Parquet inside the sandbox workspace; returns it read back."""
    sample = df.sample(sample_rows, random_state=0).sort_index() if len(df) > sample_rows else df
    folder = Path(sandbox.workspace) / "proposals"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sample-{uuid.uuid4().hex[:10]}.parquet"
    try:
        from core.sandbox.worker import write_parquet

        write_parquet(sample, path)
    except ImportError:
        sample.to_parquet(path)
    # Read back: the sandbox sees exactly this frame (types as Parquet keeps them).
    return path, pd.read_parquet(path)


# --------------------------------------------------------------------------- verification
def _defines(code: str, entry: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == entry for n in tree.body)


def _model_check_code(code: str, target: str, task: str | None) -> str:
    """Model code + a trusted check: build, fit on a few hundred rows, score (script mode)."""
    return (
        code.rstrip()
        + "\n\n\ndef _verify_build_model(df):\n"
        + "    from core.modeling_harness import detect_task, prepare_features, prepare_target\n"
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


def verify(
    stage: str,
    code: str,
    sandbox: Sandbox,
    sample_path: Path,
    sample: pd.DataFrame,
    target: str | None,
    request: str | None = None,
    allow_noop: bool = True,
    task: str | None = None,
) -> Verdict:
    """Every check code must pass before it is shown as verified; the failure is one line."""
    entry = CONTRACTS[stage][0]
    if not code.strip():
        return Verdict(False, "no code found in the reply")
    try:
        ast.parse(code)
    except SyntaxError as e:
        return Verdict(False, f"syntax error on line {e.lineno}: {e.msg}")
    if not _defines(code, entry):
        return Verdict(False, f"the code does not define {entry}(...)")
    findings = errors(lint(code))
    if findings:
        refused = [f.message for f in findings]
        return Verdict(False, "refused by the safety check: " + refused[0], refused=refused)

    if stage == "model":
        if not target or target not in sample.columns:
            return Verdict(False, "the model stage needs a target column present in the data")
        job = SandboxJob(
            code=_model_check_code(code, target, task),
            mode="script",
            entrypoint="_verify_build_model",
            input_path=sample_path,
            limits=VERIFY_LIMITS,
        )
        res = sandbox.run(job)
        if not res.ok:
            return Verdict(False, _sandbox_failure(res, code, sample))
        return Verdict(True, value=res.value, stdout=res.stdout)

    if stage == "ask":
        res = sandbox.run(
            SandboxJob(
                code=code, mode="script", entrypoint=entry, input_path=sample_path, limits=VERIFY_LIMITS
            )
        )
        if not res.ok:
            return Verdict(False, _sandbox_failure(res, code, sample))
        return Verdict(True, value=res.value, stdout=res.stdout)

    out_path = sample_path.with_name(f"out-{uuid.uuid4().hex[:10]}.parquet")
    res = sandbox.run(
        SandboxJob(
            code=code,
            mode="transform",
            entrypoint=entry,
            input_path=sample_path,
            output_path=out_path,
            limits=VERIFY_LIMITS,
        )
    )
    if not res.ok:
        return Verdict(False, _sandbox_failure(res, code, sample))
    try:
        out = pd.read_parquet(res.output_path or out_path)
    except Exception as e:  # noqa: BLE001 - any unreadable output is a contract failure
        return Verdict(False, f"the result could not be read back: {e}")
    finally:
        Path(res.output_path or out_path).unlink(missing_ok=True)
    failure = contract_failure(sample, out, target, request, allow_noop)
    failure = failure or request_failure(sample, out, request)
    return Verdict(failure is None, failure, stdout=res.stdout, frame=out, noop=_same(sample, out))


def _sandbox_failure(res: Any, code: str = "", sample: pd.DataFrame | None = None) -> str:
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
    return message


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
    if not allow_noop and _same(before, after):
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
        return None  # ambiguous requests are judged by the user, not guessed at here
    column, kind = named[0], wanted[0]
    if _kind(after[column]) != kind:
        return f"the request asks for {column!r} as {kind}, but it is still {_kind(after[column])}"
    return None


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return "numbers"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "dates"
    return "text"


def coverage_failure(reference: pd.DataFrame, candidate: pd.DataFrame, target: str | None) -> str | None:
    """The quality gate for Gemma's stage code: it must fix what the recipe plan fixes.

    Measured on the sample against the recipes' own output: every column both keep must have
    the same kind (numbers / dates / text), no more missing cells may remain, and no more
    duplicate rows.
    """
    for col in reference.columns:
        if col in candidate.columns and col != target:
            want, got = _kind(reference[col]), _kind(candidate[col])
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


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return False
    try:
        return bool(a.reset_index(drop=True).equals(b.reset_index(drop=True)))
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- the engine
@dataclass
class _Run:
    """What one propose() call accumulates: attempts, refusals, the last failure."""

    attempts: list[Attempt] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    last_failure: str | None = None


def _generate(backend: Backend, prompt: str, max_tokens: int, stop: Iterable[str] = STOPS) -> str:
    return backend.complete(
        prompt, GenerationParams(max_tokens=max_tokens, temperature=0.0, stop=tuple(stop))
    )


def _examples(stage: str, name: str) -> str:
    try:
        return prompts.example(f"{stage}/{name}").rstrip("\n") + "\n"
    except FileNotFoundError:
        return ""


def _try_gemma(
    run: _Run,
    stage: str,
    backend: Backend,
    first: Callable[[], str],
    check: Callable[[str], Verdict],
    n_repair: int,
    context: PromptContext,
    task_line: str,
) -> tuple[str | None, int]:
    """First code from `first()` + up to n_repair repairs (the failure fed back).

    Returns (verified code or None, repairs used). A repair that gives back the same code ends
    the loop early: at temperature 0 asking again would give the same answer.
    """
    entry = CONTRACTS[stage][0]
    code = ""
    failure = ""
    for round_ in range(n_repair + 1):
        t0 = time.perf_counter()
        try:
            if round_ == 0:
                new = first()
            else:
                prefix = scaffold_prefix(stage)
                repair = prompts.render(
                    "fix/repair.j2",
                    examples=_examples(stage, "examples.txt"),
                    context=context.text,
                    task=task_line,
                    code=code.strip(),
                    error=failure,
                    prefix=prefix.rstrip("\n"),
                )
                reply = _generate(backend, format_prompt(backend, "", repair), REPAIR_TOKENS)
                new = complete_scaffold(prefix, reply, entry) or extract_code(reply, entry)
        except BackendError as e:
            run.attempts.append(
                Attempt(
                    source="gemma",
                    code="",
                    ok=False,
                    failure=f"model error: {e}",
                    seconds=time.perf_counter() - t0,
                )
            )
            run.last_failure = f"model error: {e}"
            return None, round_
        if round_ and new.strip() == code.strip():
            run.attempts.append(
                Attempt(
                    source="gemma",
                    code=new,
                    ok=False,
                    failure="the repair repeated the failing code",
                    seconds=time.perf_counter() - t0,
                )
            )
            return None, round_
        code = new
        verdict = check(code)
        run.attempts.append(
            Attempt(
                source="gemma",
                code=code,
                ok=verdict.ok,
                failure=verdict.failure,
                seconds=time.perf_counter() - t0,
            )
        )
        run.refused += [r for r in verdict.refused if r not in run.refused]
        if verdict.ok:
            return code, round_
        failure = verdict.failure or "failed"
        run.last_failure = failure
    return None, n_repair


STEP_STOPS = ("\n    #", "\n    return", "\n###", "\ndef ", "\n```", "<end_of_turn>", "<eos>", "\nimport ")


def _stepwise(backend: Backend, head: str, prefix: str, plan: list[str], arg: str = "df") -> str:
    """Gemma writes one plan step at a time: the prompt ends with the step's comment and the
    generation stops at the next comment or `return`. Short outputs cannot loop, and a step
    whose code does not parse is left out (its comment stays, so the gap is visible)."""
    code = prefix
    for step in plan:
        code += f"    # {step}\n"
        reply = _generate(backend, head + code, 90, stop=STEP_STOPS)
        lines = []
        for line in strip_end_tokens(reply).split("\n"):
            if (line.strip() and not line.startswith("    ")) or line.strip().startswith("return"):
                break  # left the function, or a return that would make the later steps dead code
            if line.strip():
                lines.append(line.rstrip())
        piece = "\n".join(lines) + ("\n" if lines else "")
        if piece and _parses_as_body(code + piece + f"    return {arg}\n"):
            code += piece
    return code + f"    return {arg}\n"


def _parses_as_body(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _complete(
    backend: Backend, prompt: str, prefix: str, stage: str, max_tokens: int = REQUEST_TOKENS
) -> str:
    """One scaffold continuation: the reply continues `prefix` (the function header)."""
    entry = CONTRACTS[stage][0]
    reply = _generate(backend, prompt, max_tokens)
    return complete_scaffold(prefix, reply, entry) or extract_code(reply, entry)


def _try_rule(run: _Run, code: str, check: Any) -> Verdict:
    t0 = time.perf_counter()
    verdict = check(code)
    run.attempts.append(
        Attempt(
            source="rule", code=code, ok=verdict.ok, failure=verdict.failure, seconds=time.perf_counter() - t0
        )
    )
    return verdict


def _select_recipes(
    backend: Backend,
    stage: str,
    context: PromptContext,
    recipes: list[Recipe],
    task: str | None,
    sent: list[str],
) -> tuple[list[Recipe], bool]:
    """Gemma's constrained part: yes/no per recipe (clean/feature) or a number (model).

    Returns (recipes in order, whether Gemma's answers were usable); every prompt goes to `sent`.
    """
    if stage == "model":
        options = [f"{r.title}" for r in recipes]
        text = prompts.render(
            "model/choose.j2", task=task or "prediction", context=context.text, options=options
        )
        prompt = format_prompt(backend, "", text.rstrip())
        sent.append(prompt)
        m = re.search(r"\d+", _generate(backend, prompt, 3, stop=("\n",)))
        if m and 1 <= int(m.group()) <= len(recipes):
            chosen = recipes[int(m.group()) - 1]
            return [chosen] + [r for r in recipes if r is not chosen], True
        return recipes, False
    kept = []
    answered = 0
    for r in recipes:
        if not r.code.strip():
            kept.append(r)  # notes (e.g. one-hot in the model pipeline) cost nothing
            continue
        columns = ", ".join(map(str, r.applies_to[:8]))
        text = prompts.render(f"{stage}/select.j2", context=context.text, title=r.title, columns=columns,
                              rationale=r.rationale)  # fmt: skip
        prompt = format_prompt(backend, "", text.rstrip())
        sent.append(prompt)
        reply = _generate(backend, prompt, 2, stop=("\n",)).strip().casefold()
        answered += reply.startswith(("yes", "no"))
        # Only a clear "no" removes a recipe: the recipes are best practice by default.
        if not reply.startswith("no"):
            kept.append(r)
    return kept, answered > 0 or not any(r.code.strip() for r in recipes)


def _rationale(recipes: list[Recipe]) -> str:
    active = [r for r in recipes if r.code.strip()] or recipes
    if not active:
        return "nothing to do: the profile shows no issue this stage fixes"
    # One line per recipe ("title: why"): pages show them as bullets, exports as a list, and
    # Step.purpose names the titles.
    return "\n".join(f"{r.title[:1].upper()}{r.title[1:]}: {r.rationale.rstrip('.')}." for r in active[:6])


def _task_of(project: Project, frame: pd.DataFrame, target: str | None) -> str | None:
    if project.task:
        return project.task
    if not target or target not in frame.columns:
        return None
    try:
        from core.modeling_harness import detect_task

        return detect_task(frame[target])
    except Exception:  # noqa: BLE001
        return None


def propose(
    stage: str,
    project: Project,
    backend: Backend | None,
    sandbox: Sandbox,
    request: str | None = None,
    n_repair: int = 2,
    sample_rows: int = 2000,
    exclude: Iterable[str] = (),
    data: Any = None,
    technique: str | None = None,
) -> Proposal:
    """A verified proposal for `stage` (or for a free-form `request`) on the project's current data.

    `data` is the current table (a DataFrame or a path), i.e. the result of the active steps;
    `backend=None` asks for the recipes only. `technique` ("scaffold" | "select") overrides the
    measured default for stage proposals.
    """
    t_start = time.perf_counter()
    if stage not in CONTRACTS or stage == "ask":
        raise ProposeError(f"no proposals for stage {stage!r}")
    frame = _as_frame(data)
    target = project.target if project.target in frame.columns else None
    sample_path, sample = _write_sample(frame, sandbox, sample_rows)
    if stage == "clean" and project.profile is not None and not project.active_steps:
        profile = project.profile
    else:
        profile = profile_frame(sample, target)
    excluded = set(exclude) | set(project.excluded_columns)
    task = _task_of(project, sample, target) if stage == "model" else None
    entry = CONTRACTS[stage][0]
    recipes = (
        recipes_for(stage, profile, target, task) if stage == "model" else recipes_for(stage, profile, target)
    )
    reserve = 900 if request else 1100
    context = build_context(
        profile,
        stage,
        target,
        request,
        project.active_steps,
        excluded,
        _budget(backend, reserve),
        _count(backend),
    )
    run = _Run()

    def check(code: str, allow_noop: bool = True) -> Verdict:
        return verify(stage, code, sandbox, sample_path, sample, target, request, allow_noop, task)

    def proposal(
        code: str,
        provenance: str,
        detail: str,
        rationale: str,
        ok: bool,
        used: list[Recipe],
        prompt: str | None,
    ) -> Proposal:
        return Proposal(
            stage=stage,
            code=code,
            entrypoint=entry,
            provenance=provenance,
            provenance_detail=detail,
            rationale=rationale,
            verified=ok,
            request=request,
            prompt=prompt,
            attempts=run.attempts,
            refused=run.refused,
            recipes=[r.id for r in used],
            seconds=time.perf_counter() - t_start,
        )

    try:
        if request:
            return _propose_request(
                stage, request, backend, recipes, profile, target, context, run, check, n_repair, proposal
            )
        return _propose_stage(
            stage,
            backend,
            recipes,
            context,
            run,
            check,
            n_repair,
            proposal,
            technique or DEFAULT_TECHNIQUE.get(stage, "scaffold"),
            task,
            target,
        )
    finally:
        sample_path.unlink(missing_ok=True)


def _propose_stage(stage, backend, recipes, context, run, check, n_repair, proposal, technique, task, target):  # noqa: ANN001, ANN202
    rule_code = render_stage(stage, recipes)
    rationale = _rationale(recipes)
    if backend is None:
        v = _try_rule(run, rule_code, check)
        detail = "rule (no Gemma proposal requested)" if v.ok else f"rule (failed verification: {v.failure})"
        return proposal(rule_code, "rule", detail, rationale, v.ok, recipes, None)

    if stage != "model" and not any(r.code.strip() for r in recipes):
        # Nothing in the profile for this stage to fix: asking Gemma would only invite noise,
        # and an unchanged table must not be credited to Gemma.
        v = _try_rule(run, rule_code, check)
        detail = "rule (nothing to do: the profile shows no issue this stage handles)"
        return proposal(rule_code, "rule", detail, rationale, v.ok, recipes, None)

    prompt = None
    # The model stage is always a choice among recipes: a 270M model does not write sklearn pipelines.
    if technique == "select" or stage == "model":
        t0 = time.perf_counter()
        sent: list[str] = []
        usable = False
        try:
            chosen, usable = _select_recipes(backend, stage, context, recipes, task, sent)
        except BackendError as e:
            run.last_failure = f"model error: {e}"
            chosen = recipes
        sel_seconds = time.perf_counter() - t0
        prompt = "\n\n----- next prompt -----\n\n".join(sent) or None
        code = render_stage(stage, chosen)
        v = _try_rule(run, code, check)
        run.attempts[-1].seconds += sel_seconds
        n_code = len([r for r in recipes if stage == "model" or r.code.strip()])
        n_kept = len([r for r in chosen if stage == "model" or r.code.strip()])
        if not usable:
            detail = f"rule (Gemma gave no usable choice: {run.last_failure or 'unreadable answer'})"
        elif stage == "model" and chosen:
            detail = f"rule (recipe '{chosen[0].title}' selected by Gemma)"
        else:
            detail = f"rule (recipes selected by Gemma: {n_kept} of {n_code})"
        if v.ok:
            return proposal(code, "rule", detail, _rationale(chosen), True, chosen, prompt)
        run.last_failure = v.failure
        if stage == "model":
            # Each model recipe is a complete alternative: try the others before giving up.
            first_failure = v.failure
            for alt in chosen[1:]:
                code = render_stage(stage, [alt])
                v = _try_rule(run, code, check)
                if v.ok:
                    detail = f"rule (recipe '{chosen[0].title}' failed: {first_failure}; using '{alt.title}')"
                    return proposal(code, "rule", detail, _rationale([alt]), True, [alt], prompt)
        rule_verdict = None
    else:
        plan = [_plan_line(r) for r in recipes if r.code.strip()] or [
            "Nothing to fix: return the table as is"
        ]
        # The recipes' output on the sample is the bar Gemma's code must reach (quality gate).
        t0 = time.perf_counter()
        rule_verdict = check(rule_code)
        rule_seconds = time.perf_counter() - t0
        reference = rule_verdict.frame if rule_verdict.ok else None
        has_work = any(r.code.strip() for r in recipes)

        def gated(code: str) -> Verdict:
            v = check(code, allow_noop=not has_work)
            if v.ok and reference is not None and v.frame is not None:
                gap = coverage_failure(reference, v.frame, target)
                if gap:
                    return Verdict(False, gap, stdout=v.stdout)
            return v

        prefix = scaffold_prefix(stage)
        head = (
            prompts.render(
                f"{stage}/scaffold.j2",
                examples=_examples(stage, "examples.txt"),
                context=context.text,
                plan=plan,
                prefix="",
            ).rstrip("\n")
            + "\n"
        )
        head = format_prompt(backend, "", head)
        prompt = head + prefix + f"    # {plan[0]}\n"
        steps = plan if has_work else []
        code, rounds = _try_gemma(
            run,
            stage,
            backend,
            lambda: _stepwise(backend, head, prefix, steps),
            gated,
            n_repair,
            context,
            "; ".join(plan),
        )
        if code is not None:
            prov, detail = gemma_provenance(rounds)
            return proposal(
                code, prov, detail, f"Gemma's code for the plan: {rationale}", True, recipes, prompt
            )

    if rule_verdict is not None:
        # Already verified above (as the quality bar): record it now, as the fallback it is.
        run.attempts.append(Attempt(source="rule", code=rule_code, ok=rule_verdict.ok,
                                    failure=rule_verdict.failure, seconds=rule_seconds))  # fmt: skip
        v = rule_verdict
    else:
        v = _try_rule(run, rule_code, check)
    reason = run.last_failure or "no usable proposal"
    detail = f"rule (Gemma's proposal failed: {reason})"
    if not v.ok:
        detail = f"no verified proposal: Gemma failed ({reason}) and the recipes failed ({v.failure})"
    return proposal(rule_code, "rule", detail, rationale, v.ok, recipes, prompt)


def gemma_provenance(repairs: int) -> tuple[Provenance, str]:
    """Provenance of code Gemma wrote that verified after `repairs` rounds of error feedback."""
    if repairs == 0:
        return "gemma", "Gemma"
    return "gemma-repaired", f"Gemma, repaired after {repairs} {'try' if repairs == 1 else 'tries'}"


def _propose_request(
    stage, request, backend, recipes, profile, target, context, run, check, n_repair, proposal
):  # noqa: ANN001, ANN202
    prompt = None
    if backend is not None:
        prefix = scaffold_prefix(stage)
        text = prompts.render(
            f"{stage}/request.j2",
            examples=_examples(stage, "request_examples.txt"),
            context=context.text,
            request=request,
            prefix=prefix.rstrip("\n"),
        )
        prompt = format_prompt(backend, "", text)
        code, rounds = _try_gemma(
            run,
            stage,
            backend,
            lambda: _complete(backend, prompt, prefix, stage),
            lambda c: check(c, allow_noop=False),
            n_repair,
            context,
            f"Request: {request}",
        )
        if code is not None:
            prov, detail = gemma_provenance(rounds)
            return proposal(code, prov, detail, f"Gemma's code for the request: {request}", True, [], prompt)
    reason = run.last_failure or ("no Gemma proposal requested" if backend is None else "no usable proposal")
    matched = match_request(request, stage, profile, target)
    if matched:
        code = render_stage(stage, matched)
        v = _try_rule(run, code, check)
        if v.ok:
            detail = (
                f"rule (Gemma's proposal failed: {reason}; request matched to recipe '{matched[0].title}')"
            )
            if backend is None:
                detail = f"rule (request matched to recipe '{matched[0].title}')"
            if v.noop:
                detail += "; it changes nothing on this data"
            return proposal(code, "rule", detail, _rationale(matched), True, matched, prompt)
        reason = f"{reason}; recipe '{matched[0].title}' failed too: {v.failure}"
    last = next((a.code for a in reversed(run.attempts) if a.code), "")
    return proposal(
        last, "gemma", f"could not do this: {reason}", f"Unverified attempt at: {request}", False, [], prompt
    )


# --------------------------------------------------------------------------- request -> recipe
_KEYWORDS: list[tuple[str, str]] = [
    (r"\brare\b|\bother\b", "rare"),
    (r"\b(month|year|weekday|day of week|dayofweek|date parts?)\b", "date_parts"),
    (r"\blog\b|log1p|logarithm", "log1p"),
    (r"frequen|count encod", "frequency"),
    (r"duplicat", "duplicates"),
    (r"missing|impute|fill|nan\b|null", "impute"),
    (r"outlier|winsor|\bcap\b|clip", "outliers"),
    (r"spelling|standardi[sz]e|consistent|case|whitespace", "standardise"),
    (r"\b(to|as) (a )?(number|numeric|float)|currency|money", "numbers"),
    (r"\b(to|as) (a )?dates?\b|parse dates?|datetime", "dates"),
    (r"\b(drop|remove|delete)\b.*\bcolumns?\b|\bcolumns?\b.*\b(drop|remove|delete)\b", "drop"),
]


def match_request(request: str, stage: str, profile: DatasetProfile, target: str | None) -> list[Recipe]:
    """Map a free-form request onto one recipe with the columns it names (keyword matching)."""
    names = [c.name for c in profile.columns]
    cols = [c for c in named_in(request, names) if c != target]
    # Keywords are read with the column names taken out: "log of year" is a log, not a date part.
    words = request
    for c in sorted(cols, key=len, reverse=True):
        words = re.sub(re.escape(str(c)), " ", words, flags=re.I)
    kinds = [kind for pattern, kind in _KEYWORDS if re.search(pattern, words, re.I)]
    if not kinds:
        return []
    kind = kinds[0]
    if kind == "duplicates":
        return [clean_recipes.drop_duplicates_recipe()]
    if not cols:
        # No column named: the stage's own recipe of that kind, if the profile suggests one.
        pool = recipes_for("clean", profile, target) + recipes_for("feature", profile, target)
        ids = {
            "rare": "feature.rare_to_other",
            "date_parts": "feature.date_parts",
            "log1p": "feature.log1p",
            "frequency": "feature.frequency_encode",
            "impute": "clean.impute",
            "outliers": "clean.cap_outliers",
            "standardise": "clean.standardise_categories",
            "numbers": "clean.parse_numbers",
            "dates": "clean.parse_dates",
        }
        return [r for r in pool if r.id == ids.get(kind)][:1]
    if kind == "date_parts" and stage in _TRANSFORM:
        m = re.search(r"\b(month|year|weekday|day of week|dayofweek)\b", request, re.I)
        if m and "part" not in request.lower():
            part = {"weekday": "dayofweek", "day of week": "dayofweek"}.get(
                m.group(1).lower(), m.group(1).lower()
            )
            return [_single_date_part(cols, part)]
        return [feature_recipes.date_parts_recipe(cols)]
    share = re.search(r"(\d+(?:\.\d+)?)\s*%", request)
    builders = {
        "rare": lambda: feature_recipes.rare_recipe(cols, float(share.group(1)) / 100 if share else 0.01),
        "log1p": lambda: feature_recipes.log1p_recipe(cols),
        "frequency": lambda: feature_recipes.frequency_recipe(cols),
        "impute": lambda: _impute_for(cols, profile),
        "outliers": lambda: clean_recipes.cap_outliers_recipe(cols),
        "standardise": lambda: clean_recipes.standardise_recipe(cols),
        "numbers": lambda: clean_recipes.parse_numbers_recipe(cols),
        "dates": lambda: clean_recipes.parse_dates_recipe(cols),
        "drop": lambda: clean_recipes.drop_columns_recipe(
            "clean.drop_columns", "Drop columns", "requested by you.", cols
        ),
    }
    return [builders[kind]()]


def _single_date_part(cols: list[str], part: str) -> Recipe:
    lines = [
        f"for col in {cols!r}:",
        '    when = pd.to_datetime(df[col], format="mixed", errors="coerce", utc=True)',
        f'    df[f"{{col}}_{part}"] = when.dt.{part}.astype("float64")',
    ]
    return Recipe(
        "feature.date_part",
        "feature",
        f"Add the {part} of a date",
        f"the {part} as its own column.",
        {"columns": cols, "part": part},
        "\n".join(lines),
        cols,
    )


def _impute_for(cols: list[str], profile: DatasetProfile) -> Recipe:
    numeric, categorical = [], []
    for c in cols:
        col = profile.column(c)
        (
            numeric if col.semantic in ("numeric", "money_text", "numeric_text", "boolean") else categorical
        ).append(c)
    return clean_recipes.impute_recipe(numeric, categorical, [])


# --------------------------------------------------------------------------- explain / fix / ask
def explain(code: str, project: Project | None, backend: Backend | None) -> str:
    """A short explanation: Gemma's one sentence (few-shot) + facts read from the code itself."""
    facts = code_facts(code)
    sentence = ""
    if backend is not None:
        body = "\n".join(line for line in code.splitlines() if line.startswith("    "))[:1500]
        text = prompts.render("explain/explain.j2", examples=_examples("explain", "examples.txt"), code=body)
        try:
            prompt = format_prompt(backend, "", text.rstrip())
            reply = _generate(backend, prompt, 60, stop=("\n", "Code:", "<end_of_turn>"))
            sentence = "It " + reply.strip() if reply.strip() else ""
        except BackendError:
            sentence = ""
        sentence = _grounded(sentence, code, project)
    return (sentence + "\n" if sentence else "") + facts


def _grounded(sentence: str, code: str, project: Project | None) -> str:
    """Keep Gemma's sentence only when it is about this code: it must name a column the code uses,
    and every quoted name in it must exist in the code or the data."""
    if not sentence:
        return ""
    columns = set(re.findall(r"[\"']([^\"']+)[\"']", code))
    known = set(columns)
    if project is not None and project.profile is not None:
        known |= {c.name for c in project.profile.columns}
    quoted = re.findall(r"[\"'`]([^\"'`]+)[\"'`]", sentence)
    if any(q not in known for q in quoted):
        return ""
    words = set(re.findall(r"[\w]+", sentence.casefold()))
    mentions = [
        c for c in columns if c.casefold() in words or c.casefold().replace("_", " ") in sentence.casefold()
    ]
    return sentence if mentions else ""


def code_facts(code: str) -> str:
    """What the code reads, creates, drops and calls: read from the AST, so always true."""
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return f"The code does not parse (line {e.lineno}: {e.msg})."
    created, read, calls = [], [], []
    dropped: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            (created if isinstance(node.ctx, ast.Store) else read).append(node.slice.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            calls.append(node.func.attr)
            if node.func.attr == "drop":
                for kw in node.keywords:
                    if kw.arg == "columns" and isinstance(kw.value, (ast.List, ast.Tuple)):
                        dropped += [e.value for e in kw.value.elts if isinstance(e, ast.Constant)]

    def uniq(xs: list[str]) -> list[str]:
        return list(dict.fromkeys(xs))

    parts = []
    if uniq(read):
        parts.append("Reads columns: " + ", ".join(uniq(read)[:12]) + ".")
    if uniq(created):
        parts.append("Writes columns: " + ", ".join(uniq(created)[:12]) + ".")
    if dropped:
        parts.append("Drops columns: " + ", ".join(uniq(dropped)[:12]) + ".")
    if calls:
        parts.append("Uses: " + ", ".join(uniq(calls)[:12]) + ".")
    return " ".join(parts) or "The code does not touch any named column."


def fix(
    code: str,
    error: str,
    project: Project,
    backend: Backend | None,
    sandbox: Sandbox,
    stage: str = "clean",
    data: Any = None,
    n_repair: int = 2,
    sample_rows: int = 2000,
) -> Proposal:
    """Gemma repairs `code` given `error`, verified like any proposal. Never swaps in other code:
    when no repair verifies, the result is `verified=False` with the reason."""
    t_start = time.perf_counter()
    frame = _as_frame(data)
    target = project.target if project.target in frame.columns else None
    sample_path, sample = _write_sample(frame, sandbox, sample_rows)
    profile = profile_frame(sample, target)
    context = build_context(
        profile,
        stage,
        target,
        None,
        project.active_steps,
        project.excluded_columns,
        _budget(backend, 1100),
        _count(backend),
    )
    run = _Run()
    entry = CONTRACTS[stage][0]

    def check(c: str) -> Verdict:
        return verify(stage, c, sandbox, sample_path, sample, target, None, True, project.task)

    try:
        prompt = None
        if backend is not None:
            prefix = scaffold_prefix(stage)
            text = prompts.render(
                "fix/repair.j2",
                examples=_examples(stage, "examples.txt"),
                context=context.text,
                task=f"fix the {entry} function",
                code=code.strip(),
                error=error,
                prefix=prefix.rstrip("\n"),
            )
            prompt = format_prompt(backend, "", text)
            fixed, rounds = _try_gemma(
                run,
                stage,
                backend,
                lambda: _complete(backend, prompt, prefix, stage, REPAIR_TOKENS),
                check,
                max(0, n_repair - 1),
                context,
                f"fix the {entry} function",
            )
            if fixed is not None:
                # A fix is a repair from its first round: the user's failing code was try one.
                _, detail = gemma_provenance(rounds + 1)
                return Proposal(
                    stage=stage,
                    code=fixed,
                    entrypoint=entry,
                    provenance="gemma-repaired",
                    provenance_detail=detail,
                    rationale=f"Gemma's fix for: {error}",
                    verified=True,
                    prompt=prompt,
                    attempts=run.attempts,
                    refused=run.refused,
                    seconds=time.perf_counter() - t_start,
                )
        reason = run.last_failure or "no model available"
        return Proposal(
            stage=stage,
            code=code,
            entrypoint=entry,
            provenance="user",
            provenance_detail=f"could not fix this: {reason}",
            rationale=error,
            verified=False,
            prompt=prompt,
            attempts=run.attempts,
            refused=run.refused,
            seconds=time.perf_counter() - t_start,
        )
    finally:
        sample_path.unlink(missing_ok=True)


def ask(
    project_or_df: Project | pd.DataFrame,
    question: str,
    backend: Backend,
    sandbox: Sandbox,
    data: Any = None,
    n_repair: int = 2,
    sample_rows: int | None = None,
) -> tuple[str, str, Any]:
    """Answer `question` with verified code `def answer(df)`, run on the table (script mode).

    Returns (code, stdout, value). Raises AskError when no code verifies."""
    if isinstance(project_or_df, pd.DataFrame):
        frame, project = project_or_df, None
    else:
        project = project_or_df
        frame = _as_frame(data)
    sample_path, sample = _write_sample(frame, sandbox, sample_rows or max(len(frame), 1))
    excluded = project.excluded_columns if project else []
    target = project.target if project else None
    profile = profile_frame(sample, target)
    context = build_context(
        profile, "ask", target, question, (), excluded, _budget(backend, 900), _count(backend)
    )
    run = _Run()
    verdicts: dict[str, Verdict] = {}

    def check(c: str) -> Verdict:
        v = verify("ask", c, sandbox, sample_path, sample, target)
        verdicts[c] = v
        return v

    try:
        prefix = scaffold_prefix("ask")
        text = prompts.render(
            "ask/question.j2",
            examples=_examples("ask", "examples.txt"),
            context=context.text,
            question=question,
            prefix=prefix.rstrip("\n"),
        )
        prompt = format_prompt(backend, "", text)
        code, _ = _try_gemma(
            run,
            "ask",
            backend,
            lambda: _complete(backend, prompt, prefix, "ask"),
            check,
            n_repair,
            context,
            f"Question: {question}",
        )
        if code is None:
            raise AskError(f"could not answer this: {run.last_failure}", run.attempts)
        v = verdicts[code]
        return code, v.stdout, v.value
    finally:
        sample_path.unlink(missing_ok=True)
