"""Typed records shared by every part of core: profile facts, proposals, steps, project.

They are pydantic models so that persistence (JSON on disk), the pages, the exports and
the autopilot read one shape. Behaviour lives in the modules that own each record:
`core.profile` builds `DatasetProfile`, `core.engine` builds `Proposal`,
`core.project` owns `Project` (snapshots, undo/redo, replay, persistence).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

# A stage name from the registry (`core.stages.ordered()`): load, profile, clean, feature, model,
# report, or one a module registers. Plain text here so that a new stage needs no edit in this file.
Stage = str
# Where code came from. "gemma": verified as Gemma wrote it; "gemma-repaired": Gemma fixed
# it after N failed checks; "rule": a deterministic recipe (Gemma failed or was not asked);
# "user": edited or typed by the user.
Source = Literal["gemma", "gemma-repaired", "rule", "user"]
# How the engine reached the code (see `Provenance.line` for the words of each).
Route = Literal[
    "gemma",
    "recipes",
    "nothing",
    "selected",
    "unusable-choice",
    "alternative",
    "fallback",
    "matched",
    "failed",
    "fix-failed",
    "steps",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- loading
class LoadOptions(BaseModel):
    """How a raw file was read; rendered into the notebook's first cell as pandas code."""

    format: Literal["csv", "excel", "parquet", "json", "jsonl"] = "csv"
    delimiter: str | None = None
    encoding: str | None = None
    decimal: str = "."
    thousands: str | None = None
    header_row: int | None = 0
    sheet: str | None = None
    skip_rows: int = 0
    # Filled by core.io.load_table when it had to repair the header (blank or duplicate
    # names, ragged rows wider than the header, no header row): the final names, so that
    # load_code reproduces exactly the same DataFrame. None when the file's header is used as is.
    column_names: list[str] | None = None


class DatasetRef(BaseModel):
    """The raw upload, stored once and never modified."""

    filename: str  # original file name, e.g. "sales.csv"
    raw_path: str  # path inside the project folder, relative to it: "raw/sales.csv"
    sha256: str
    size_bytes: int
    options: LoadOptions = Field(default_factory=LoadOptions)
    n_rows: int = 0
    n_cols: int = 0
    # When the file is too large for interactive work the UI and prompts use a sample;
    # accepted code is re-run on the full data at export and by the autopilot.
    sampled: bool = False
    sample_rows: int | None = None
    warnings: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- profile
class ColumnProfile(BaseModel):
    name: str
    dtype: str  # pandas dtype as loaded
    # "id" | "date" | "money_text" | "numeric_text" | "boolean" | "category" | "numeric" | "text"
    # | "constant" | "empty"
    semantic: str
    n_missing: int
    missing_share: float
    n_unique: int
    top_values: list[tuple[str, int]] = Field(default_factory=list)
    sample_values: list[str] = Field(default_factory=list)
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] = Field(default_factory=dict)  # "q25", "q50", "q75"
    skew: float | None = None
    n_outliers: int | None = None  # IQR rule, numeric only
    notes: list[str] = Field(default_factory=list)  # e.g. "3 spellings of 'New York'"


class DatasetProfile(BaseModel):
    n_rows: int
    n_cols: int
    n_duplicate_rows: int
    memory_mb: float
    columns: list[ColumnProfile]
    high_correlations: list[tuple[str, str, float]] = Field(default_factory=list)
    target_candidates: list[str] = Field(default_factory=list)
    leakage: list[dict[str, Any]] = Field(default_factory=list)  # {"column", "target", "reason"}
    sampled_from: int | None = None  # rows in the full data when profiled on a sample
    # Dataset-level notes from core.profile, e.g. which figures were estimated on a sample.
    notes: list[str] = Field(default_factory=list)

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# --------------------------------------------------------------------------- proposals
class Attempt(BaseModel):
    """One try at getting verified code (Gemma or a recipe), kept for honesty and the eval."""

    source: Literal["gemma", "rule"]
    code: str
    ok: bool
    failure: str | None = None  # why verification failed, one line
    seconds: float = 0.0


class Provenance(BaseModel):
    """Where a proposal's code came from, as facts; `line()` is the ONE place they become words.

    The engine fills it; `Proposal.provenance` / `provenance_detail` (and a Step's) are copies of
    `source` and `line()`, kept flat because steps are persisted and read by the exports.
    """

    source: Source
    route: Route
    repairs: int = 0  # rounds of error feedback before Gemma's code verified
    reason: str | None = None  # why Gemma's own code (or choice) was not used
    recipe: str | None = None  # the recipe matched to a request, selected, or used instead
    first_choice: str | None = None  # model stage: the recipe Gemma chose first (it failed)
    kept: int | None = None  # recipes Gemma kept ...
    offered: int | None = None  # ... of those offered
    rule_failure: str | None = None  # why the recipes failed too
    gemma_asked: bool = True  # False when no model was asked (recipes only)
    request: bool = False  # a free-form request (its failure reads "could not do this")
    noop: bool = False  # the code changes nothing on this data
    intent: Literal["verified", "failed", "unchecked", "n/a"] = "n/a"
    second_look: bool = False  # intent verified by the model's yes/no second look, not by a check
    steps_by_gemma: int | None = None  # route "steps": plan steps whose code Gemma wrote ...
    steps: int | None = None  # ... of the plan's steps with code

    def line(self) -> str:
        """The one human line: "Gemma, repaired after 2 tries", "rule (Gemma's proposal failed: …)"."""
        return self._route_line() + self._intent_words()

    def _route_line(self) -> str:  # noqa: PLR0911 - one return per route reads as a table
        reason = self.reason or "no usable proposal"
        if self.route == "gemma":
            n = self.repairs
            return "Gemma" if n == 0 else f"Gemma, repaired after {n} {'try' if n == 1 else 'tries'}"
        if self.route == "steps":
            if self.steps_by_gemma == self.steps:
                return f"Gemma (every step of the plan, {self.steps})"
            split = f"{self.steps_by_gemma} of {self.steps} plan steps"
            if self.source == "rule":
                return f"rule (Gemma wrote {split}; the others are the recipes')"
            return f"Gemma ({split}; the others from recipes)"
        if self.route == "recipes":
            if self.rule_failure:
                return f"rule (failed verification: {self.rule_failure})"
            if self.recipe:
                return f"rule (the recommended recipe '{self.recipe}'; the tuned Gemma does not pick models)"
            return "rule (no Gemma proposal requested)"
        if self.route == "nothing":
            return "rule (nothing to do: the profile shows no issue this stage handles)"
        if self.route == "unusable-choice":
            return f"rule (Gemma gave no usable choice: {self.reason or 'unreadable answer'})"
        if self.route == "selected":
            if self.recipe:
                return f"rule (recipe '{self.recipe}' selected by Gemma)"
            return f"rule (recipes selected by Gemma: {self.kept} of {self.offered})"
        if self.route == "alternative":
            return f"rule (recipe '{self.first_choice}' failed: {self.reason}; using '{self.recipe}')"
        if self.route == "fallback":
            return f"rule (Gemma's proposal failed: {reason})"
        if self.route == "matched":
            line = f"rule (request matched to recipe '{self.recipe}')"
            if self.gemma_asked:
                line = f"rule (Gemma's proposal failed: {reason}; request matched to recipe '{self.recipe}')"
            return line + ("; it changes nothing on this data" if self.noop else "")
        if self.route == "fix-failed":
            return f"could not fix this: {reason}"
        if self.request:
            return f"could not do this: {reason}"
        return f"no verified proposal: Gemma failed ({reason}) and the recipes failed ({self.rule_failure})"

    def _intent_words(self) -> str:
        if self.intent == "unchecked":
            return "; not verified against your request"
        if self.intent == "verified" and self.second_look:
            return "; verified against your request by the model's second look"
        return ""


class Proposal(BaseModel):
    stage: Stage
    code: str  # the verified code the user sees
    entrypoint: str  # function name from the stage contract, e.g. "clean"
    provenance: Source
    provenance_detail: (
        str  # human line: "Gemma, repaired after 2 tries", "rule (Gemma's proposal failed: ...)"
    )
    rationale: str
    verified: bool
    request: str | None = None
    prompt: str | None = None  # exactly what went to the model, for the preview
    attempts: list[Attempt] = Field(default_factory=list)
    refused: list[str] = Field(default_factory=list)  # lint findings shown to the user
    recipes: list[str] = Field(default_factory=list)  # ids of recipes the code came from
    seconds: float = 0.0
    # Did the code do what a free-form request asked? "n/a" for plain stage proposals.
    intent: str = "n/a"  # "verified" | "failed" | "unchecked" | "n/a"
    intent_checks: list[str] = Field(default_factory=list)
    intent_reason: str | None = None
    origin: Provenance | None = None  # the typed provenance (`provenance_detail` is its line)
    # A stage proposal that would change nothing: not offered as a step; the UI shows the reason
    # with the free-form request and the recipe list instead.
    nothing_to_do: bool = False


# --------------------------------------------------------------------------- steps
class StepResult(BaseModel):
    ok: bool
    rows_before: int | None = None
    rows_after: int | None = None
    cols_before: int | None = None
    cols_after: int | None = None
    added_columns: list[str] = Field(default_factory=list)
    removed_columns: list[str] = Field(default_factory=list)
    changed_columns: list[str] = Field(default_factory=list)
    missing_before: int | None = None
    missing_after: int | None = None
    stdout: str = ""
    error: str | None = None
    duration_s: float = 0.0
    metrics: dict[str, Any] | None = None  # model steps: see core.modeling


class Step(BaseModel):
    id: str
    stage: Stage
    request: str | None = None
    proposal: Proposal | None = None
    code: str  # final code as accepted (possibly edited)
    entrypoint: str
    provenance: Source
    provenance_detail: str
    rationale: str = ""
    result: StepResult | None = None
    snapshot_id: str | None = None  # Parquet snapshot written after this step (transform stages)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    stale: bool = False  # an earlier step changed; replay needed

    @property
    def reasons(self) -> list[str]:
        """The rationale's lines (a step built from several recipes has one line each)."""
        text = self.rationale or (self.proposal.rationale if self.proposal else "") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    @property
    def purpose(self) -> str:
        """One line saying what the step is for: the request, the single reason, or the reasons' titles."""
        if self.request and self.request.strip():
            return self.request.strip()
        reasons = self.reasons
        if len(reasons) == 1:
            return reasons[0].rstrip(". ")
        if reasons:
            return ", ".join(r.split(": ", 1)[0] for r in reasons)
        return f"{self.stage} step"


class Project(BaseModel):
    id: str
    name: str
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    dataset: DatasetRef | None = None
    profile: DatasetProfile | None = None
    data_doc: str = ""  # plain-language documentation (Gemma-drafted, user-edited)
    data_doc_flags: list[str] = Field(default_factory=list)
    target: str | None = None
    task: Literal["classification", "regression"] | None = None
    excluded_columns: list[str] = Field(default_factory=list)  # never sent to the model
    # Columns core.detect suspected (identifier / leak / post-outcome) that the user put back into
    # the model's features; every other suspect is left out by default (core.modeling.train_step).
    model_put_back: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    cursor: int = 0  # steps[:cursor] are active; steps[cursor:] can be redone
    report_narrative: dict[str, str] = Field(default_factory=dict)  # section -> edited text
    # When the report was last opened or drafted: the wizard marks the report stage done only
    # then (and stale when a step changed after it).
    report_viewed_at: datetime | None = None

    @property
    def active_steps(self) -> list[Step]:
        return self.steps[: self.cursor]
