"""The UI's pure helpers: the before/after diff and the wizard's progress states."""

from __future__ import annotations

import numpy as np
import pandas as pd

import ui_common as ui
from core.models import DatasetProfile, DatasetRef, Project, Step, StepResult


def test_frame_diff_sees_changes_new_and_removed_columns():
    before = pd.DataFrame({"a": [1, 2, None], "b": ["x", "y", "z"], "c c": [1.0, 2.0, 3.0]})
    after = before.drop(columns=["c c"]).assign(a=[1, 2, 0], d=[True, False, True])
    d = ui.frame_diff(before, after)
    assert d["shape_before"] == (3, 3) and d["shape_after"] == (3, 3)
    assert d["added"] == ["d"] and d["removed"] == ["c c"]
    assert d["changed"] == ["a"]
    assert d["missing_before"] == 1 and d["missing_after"] == 0
    assert list(d["changed_rows"].columns) == ["a (before)", "a (after)"]
    assert d["changed_rows"].index.tolist() == [2]


def test_frame_diff_survives_wild_frames():
    # Duplicate and non-string column names, rows dropped, an empty result.
    before = pd.DataFrame(np.arange(12).reshape(4, 3), columns=["x", "x", 3])
    after = before.iloc[:2]
    d = ui.frame_diff(before, after)
    assert d["shape_after"] == (2, 3) and d["changed"] == []
    empty = ui.frame_diff(before, before.iloc[0:0])
    assert empty["shape_after"][0] == 0


def _step(stage: str, stale: bool = False, ok: bool = True) -> Step:
    return Step(
        id=stage,
        stage=stage,
        code="",
        entrypoint="x",
        provenance="rule",
        provenance_detail="rule",
        stale=stale,
        result=StepResult(ok=ok),
    )


def test_stage_states_follow_the_project():
    assert ui.stage_states(None, "load") == {
        "load": "current",
        "profile": "todo",
        "clean": "todo",
        "feature": "todo",
        "model": "todo",
        "report": "todo",
    }
    p = Project(id="p", name="p")
    p.dataset = DatasetRef(filename="f.csv", raw_path="raw/f.csv", sha256="0", size_bytes=1)
    p.profile = DatasetProfile(n_rows=1, n_cols=1, n_duplicate_rows=0, memory_mb=0.0, columns=[])
    p.steps = [_step("clean"), _step("feature", stale=True), _step("model")]
    p.cursor = 3
    s = ui.stage_states(p, "feature")
    assert s["load"] == s["profile"] == s["clean"] == s["model"] == s["report"] == "done"
    assert s["feature"] == "stale"  # a stale stage stays stale even when it is the current page
    p.cursor = 1  # feature and model undone
    s = ui.stage_states(p, "model")
    assert (s["clean"], s["feature"], s["model"], s["report"]) == ("done", "todo", "current", "todo")
