"""Grounding: the sample a proposal is checked on, its profile, and the prompt context built from it.

The engine never shows the model the table: it writes a fixed-seed sample into the sandbox
workspace (the checks run on exactly that file), profiles the data as it is NOW (after earlier
steps) and renders the profile into a `PromptContext` that fits the model's window.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core.context import PromptContext, build_context, profile_frame
from core.io import load_table
from core.llm.base import Backend
from core.modeling_prep import detect_task
from core.models import DatasetProfile, Project, Step
from core.sandbox.base import Sandbox
from core.sandbox.worker import write_parquet
from core.tuning.format import CONTEXT_TOKENS

# Prompt tokens kept free for the template, examples and the reply (few-shot prompts).
RESERVE_STAGE = 1100
RESERVE_REQUEST = 900


class ProposeError(RuntimeError):
    """The engine could not even start (no data, no such stage); the message is for the user."""


@dataclass
class Workbench:
    """What one proposal works on: the sample (file and frame), its profile, the prompt context."""

    sample_path: Path
    sample: pd.DataFrame
    profile: DatasetProfile
    target: str | None
    task: str | None  # "classification" | "regression" for the model stage
    context: PromptContext


def as_frame(data: Any) -> pd.DataFrame:
    """The current table from a DataFrame or a file path (Parquet snapshots or user files)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, Path)):
        path = Path(data)
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return load_table(path).df
    raise ProposeError("no data to propose on: pass the current table (data=...)")


def write_sample(df: pd.DataFrame, sandbox: Sandbox, sample_rows: int) -> tuple[Path, pd.DataFrame]:
    """A random sample (fixed seed) as Parquet inside the sandbox workspace; returns it read back."""
    sample = df.sample(sample_rows, random_state=0).sort_index() if len(df) > sample_rows else df
    folder = Path(sandbox.workspace) / "proposals"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sample-{uuid.uuid4().hex[:10]}.parquet"
    write_parquet(sample, path)
    # Read back: the checks compare against exactly the frame the sandbox sees.
    return path, pd.read_parquet(path)


def budget(backend: Backend | None, reserve: int) -> int:
    """Tokens for the data description: a tuned model gets the budget it was trained with."""
    info = getattr(backend, "info", None)
    if info is not None and info.tuned:
        return CONTEXT_TOKENS
    ctx = getattr(info, "context_size", 2048) or 2048
    return max(200, min(700, ctx - reserve))


def counter(backend: Backend | None) -> Callable[[str], int] | None:
    return None if backend is None else backend.count_tokens


def task_of(project: Project | None, frame: pd.DataFrame, target: str | None) -> str | None:
    """Classification or regression: the project's choice, else what the target looks like."""
    if project is not None and project.task:
        return project.task
    if not target or target not in frame.columns:
        return None
    try:
        return detect_task(frame[target])
    except Exception:  # noqa: BLE001 - an odd target leaves the task to the harness
        return None


@contextmanager
def workbench(
    frame: pd.DataFrame,
    sandbox: Sandbox,
    *,
    task_name: str,
    backend: Backend | None,
    sample_rows: int,
    target: str | None,
    request: str | None = None,
    steps: Iterable[Step] = (),
    excluded: Iterable[str] = (),
    profile: DatasetProfile | None = None,
    project: Project | None = None,
    needs_task: bool = False,
) -> Iterator[Workbench]:
    """Write the sample, profile it (unless `profile` is the project's own, still current one) and
    build the context; the sample file is removed when the proposal is done."""
    target = target if target in frame.columns else None
    sample_path, sample = write_sample(frame, sandbox, sample_rows)
    try:
        profile = profile if profile is not None else profile_frame(sample, target)
        context = build_context(
            profile,
            task_name,
            target,
            request,
            steps,
            excluded,
            budget(backend, RESERVE_REQUEST if request else RESERVE_STAGE),
            counter(backend),
        )
        task = task_of(project, sample, target) if needs_task else None
        yield Workbench(sample_path, sample, profile, target, task, context)
    finally:
        sample_path.unlink(missing_ok=True)
