"""ProjectStore: projects on disk, raw upload kept unchanged, immutable snapshots, undo/redo/edit/replay."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.models import LoadOptions, Step
from core.project import BASE_SNAPSHOT, ProjectStore, ReplayOutcome, StepError, StepRun, diff_summary
from core.sandbox import NotASandbox, SandboxJob

CLEAN_DROP = "def clean(df):\n    return df.dropna()"
ADD_FEATURE = "def add_features(df):\n    df['a2'] = df['a'] * 2\n    return df"
ADD_K = "def add_features(df):\n    return df.assign(k=1)"


class CountingSandbox(NotASandbox):
    """In-process (fast) sandbox that counts runs, so tests can see when a step is (not) re-run."""

    def __init__(self, workspace: Path) -> None:
        super().__init__(workspace)
        self.runs = 0

    def run(self, job: SandboxJob):
        self.runs += 1
        return super().run(job)


@pytest.fixture
def store(tmp_path):
    return ProjectStore(tmp_path / "projects")


@pytest.fixture
def sb(tmp_path):
    return CountingSandbox(tmp_path / "sbws")


@pytest.fixture
def loaded(store, tmp_path):
    raw = tmp_path / "My Data (1).csv"
    raw.write_bytes(b"a,b\n1,x\n,y\n3,\n4,z\n")
    project = store.create("Sales 2024")
    df = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": ["x", "y", None, "z"]})
    store.import_raw(project, raw, LoadOptions(), filename=raw.name, loaded_df=df)
    return project, raw


def _json(store, project):
    return json.loads((store.project_dir(project) / "project.json").read_text())


def test_create_open_list_duplicate_delete(store):
    a = store.create("First")
    b = store.create("Second / with: odd chars")
    assert store.open(a.id).name == "First"
    assert {p.id for p in store.list()} == {a.id, b.id}
    store.save(a)
    assert store.list()[0].id == a.id  # most recent first
    c = store.duplicate(a.id)
    assert c.id != a.id and c.name == "First (copy)"
    assert store.open(c.id).name == "First (copy)"
    store.delete(a.id)
    assert {p.id for p in store.list()} == {b.id, c.id}
    with pytest.raises(KeyError):
        store.open(a.id)
    with pytest.raises(KeyError):
        store.open("../etc")


def test_import_raw_keeps_bytes_and_writes_base(store, loaded):
    project, raw = loaded
    ref = project.dataset
    stored = store.raw_path(project)
    assert stored.read_bytes() == raw.read_bytes()
    assert ref.sha256 == hashlib.sha256(raw.read_bytes()).hexdigest() and ref.size_bytes == raw.stat().st_size
    assert ref.filename == "My Data (1).csv" and ref.n_rows == 4 and ref.n_cols == 2
    assert not os.access(stored, os.W_OK) or os.geteuid() == 0  # read-only (root ignores modes)
    assert stored.stat().st_mode & 0o222 == 0
    assert store.current_data_path(project) == store.snapshot_path(project, BASE_SNAPSHOT)
    assert store.current_frame(project)["b"].tolist() == ["x", "y", None, "z"]
    assert store.open(project.id).dataset == ref


def test_import_raw_loads_with_core_io_and_messy_names(store, tmp_path):
    raw = tmp_path / "messy.csv"
    raw.write_text("id,name,name,Ünïcode col\n1,a,b,2.5\n2,c,d,\n")
    project = store.create("messy")
    ref = store.import_raw(project, raw, None, filename="messy.csv")
    frame = store.current_frame(project)
    assert ref.n_rows == 2 and frame.shape == (2, 4)
    assert len(set(frame.columns)) == 4 and all(isinstance(c, str) for c in frame.columns)


def test_run_step_is_a_preview(store, loaded, sb):
    project, _ = loaded
    before = (store.project_dir(project) / "project.json").read_bytes()
    run = store.run_step(project, "clean", CLEAN_DROP, "clean", sb)
    assert isinstance(run, StepRun) and run.ok
    assert (run.rows_before, run.rows_after, run.missing_before, run.missing_after) == (4, 2, 2, 0)
    assert Path(run.output_path).is_file()
    assert (store.project_dir(project) / "project.json").read_bytes() == before
    assert store.open(project.id).steps == []


class FileOnlySandbox(CountingSandbox):
    """A sandbox that only writes transform outputs as files (no in-memory table)."""

    def run(self, job: SandboxJob):
        return super().run(job.model_copy(update={"output": "file"}))


def test_a_sandbox_that_only_writes_files_gives_the_same_preview(store, loaded, sb, tmp_path):
    project, _ = loaded
    from_table = store.run_step(project, "clean", CLEAN_DROP, "clean", sb)
    from_file = store.run_step(project, "clean", CLEAN_DROP, "clean", FileOnlySandbox(tmp_path / "fows"))
    assert from_table.sandbox_result.table is None  # the store took it: the session keeps no data
    assert from_file.ok and from_file.output_path != from_table.output_path
    skip = {"output_path", "sandbox_result", "duration_s"}
    assert from_file.model_dump(exclude=skip) == from_table.model_dump(exclude=skip)
    assert pd.read_parquet(from_file.output_path).equals(pd.read_parquet(from_table.output_path))
    store.accept_step(project, "clean", CLEAN_DROP, "clean", provenance="user", sandbox=sb, result=from_file)
    assert store.current_frame(project).shape == (2, 2)


def test_accept_reuses_a_matching_preview_and_snapshots(store, loaded, sb):
    project, _ = loaded
    run = store.run_step(project, "clean", CLEAN_DROP, "clean", sb)
    n = sb.runs
    step = store.accept_step(
        project,
        "clean",
        CLEAN_DROP,
        "clean",
        "gemma",
        "Gemma, first try",
        rationale="drop incomplete rows",
        sandbox=sb,
        result=run,
    )
    assert sb.runs == n, "a matching preview must not be run again"
    snap = store.snapshot_path(project, step.snapshot_id)
    assert snap.is_file() and pd.read_parquet(snap).shape == (2, 2)
    reopened = store.open(project.id)
    assert reopened.cursor == 1 and reopened.steps[0].provenance == "gemma"
    assert reopened.steps[0].result.rows_after == 2
    assert store.current_frame(reopened).shape == (2, 2)
    # A preview made on other data (after an undo) is not reused.
    store.undo(project)
    store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb, result=run)
    assert sb.runs == n + 1


def test_accept_with_a_prepared_step_object(store, loaded, sb):
    project, _ = loaded
    step = Step(
        id=store.new_step_id(),
        stage="feature",
        code=ADD_FEATURE,
        entrypoint="add_features",
        provenance="rule",
        provenance_detail="rule",
    )
    saved = store.accept_step(project, step, sb)
    assert saved.id == step.id and saved.snapshot_id
    assert "a2" in store.current_frame(store.open(project.id)).columns
    assert saved.result.added_columns == ["a2"]


def test_failing_step_is_not_accepted(store, loaded, sb):
    project, _ = loaded
    with pytest.raises(StepError) as e:
        store.accept_step(
            project, "clean", "def clean(df):\n    return df['nope']", "clean", "gemma", sandbox=sb
        )
    assert "KeyError" in str(e.value)
    assert store.open(project.id).steps == []
    with pytest.raises(StepError):
        store.accept_step(project, "clean", "def clean(df):\n    return None", "clean", "gemma", sandbox=sb)


def test_undo_redo_and_redo_tail_truncation(store, loaded, sb):
    project, _ = loaded
    s1 = store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb)
    store.accept_step(project, "feature", ADD_FEATURE, "add_features", "user", sandbox=sb)
    assert store.current_frame(project).shape == (2, 3)
    assert store.undo(project)
    assert store.current_frame(store.open(project.id)).shape == (2, 2)
    assert store.undo(project) and not store.undo(project)
    assert store.current_frame(project).shape == (4, 2)
    assert store.redo(project) and store.redo(project) and not store.redo(project)
    assert store.open(project.id).cursor == 2
    store.undo(project)
    store.accept_step(project, "feature", ADD_K, "add_features", "user", sandbox=sb)
    reopened = store.open(project.id)
    assert [s.id for s in reopened.steps][0] == s1.id and len(reopened.steps) == 2
    assert "k" in store.current_frame(reopened).columns and "a2" not in store.current_frame(reopened).columns


def test_snapshots_are_immutable(store, loaded, sb):
    project, _ = loaded
    s1 = store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb)
    old = s1.snapshot_id
    snap = store.snapshot_path(project, old)
    digest = hashlib.sha256(snap.read_bytes()).hexdigest()
    store.edit_step(project, s1.id, "def clean(df):\n    return df.fillna(0)", sb)
    assert hashlib.sha256(snap.read_bytes()).hexdigest() == digest  # the old snapshot is untouched
    assert project.steps[0].snapshot_id != old
    assert store.current_frame(project).shape == (4, 2)


def test_edit_marks_later_steps_stale_and_replay_fixes_them(store, loaded, sb):
    project, _ = loaded
    s1 = store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb)
    s2 = store.accept_step(project, "feature", ADD_FEATURE, "add_features", "user", sandbox=sb)
    store.edit_step(project, s1.id, "def clean(df):\n    return df.fillna({'a': 0})", sb)
    reopened = store.open(project.id)
    assert not reopened.steps[0].stale and reopened.steps[1].stale
    assert reopened.steps[0].provenance == "user"
    out = store.replay(reopened, sb)
    assert out == [(s2.id, True, None)]
    assert isinstance(out[0], ReplayOutcome) and out[0].id == s2.id and out[0].result.ok
    frame = store.current_frame(store.open(project.id))
    assert frame["a2"].tolist() == [2.0, 0.0, 6.0, 8.0]
    assert not any(s.stale for s in store.open(project.id).steps)


def test_replay_reports_steps_that_now_fail(store, loaded, sb):
    project, _ = loaded
    s1 = store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb)
    s2 = store.accept_step(project, "feature", ADD_FEATURE, "add_features", "user", sandbox=sb)
    s3 = store.accept_step(project, "feature", ADD_K, "add_features", "user", sandbox=sb)
    store.edit_step(project, s1.id, "def clean(df):\n    return df.drop(columns=['a'])", sb)
    out = store.replay(project, sb)
    assert [o.step_id for o in out] == [s2.id, s3.id]
    assert out[0].ok is False and "KeyError" in out[0].error
    assert out[1].ok is False and "not re-run" in out[1].error
    reopened = store.open(project.id)
    assert reopened.steps[1].stale and reopened.steps[2].stale
    assert reopened.steps[1].result.ok is False


def test_edit_without_sandbox_defers_to_replay(store, loaded, sb):
    project, _ = loaded
    s1 = store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb)
    store.edit_step(project, s1.id, "def clean(df):\n    return df.head(1)")
    assert store.open(project.id).steps[0].stale
    assert store.replay(project, sb) == [(s1.id, True, None)]
    assert store.current_frame(project).shape == (1, 2)


def test_failed_edit_changes_nothing(store, loaded, sb):
    project, _ = loaded
    s1 = store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb)
    with pytest.raises(StepError):
        store.edit_step(project, s1.id, "def clean(df):\n    raise ValueError('no')", sb)
    assert store.open(project.id).steps[0].code == CLEAN_DROP


def test_remove_step(store, loaded, sb):
    project, _ = loaded
    s1 = store.accept_step(project, "clean", CLEAN_DROP, "clean", "user", sandbox=sb)
    s2 = store.accept_step(project, "feature", ADD_FEATURE, "add_features", "user", sandbox=sb)
    store.remove_step(project, s1.id)
    reopened = store.open(project.id)
    assert [s.id for s in reopened.steps] == [s2.id] and reopened.cursor == 1 and reopened.steps[0].stale
    store.replay(reopened, sb)
    assert store.current_frame(reopened).shape == (4, 3)


def test_model_step_has_metrics_and_no_snapshot(store, tmp_path, sb):
    rng = np.random.default_rng(1)
    n = 80
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], size=n)})
    df["y"] = (df["x"] > 0).astype(int)
    raw = tmp_path / "m.csv"
    df.to_csv(raw, index=False)
    project = store.create("model")
    store.import_raw(project, raw, LoadOptions(), filename="m.csv", loaded_df=df)
    project.target, project.task = "y", "classification"
    code = (
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.preprocessing import OneHotEncoder\n"
        "def build_model(X):\n"
        "    enc = OneHotEncoder(handle_unknown='ignore')\n"
        "    ct = make_column_transformer((enc, ['g']), remainder='passthrough')\n"
        "    return make_pipeline(ct, LogisticRegression())\n"
    )
    # Small harness settings keep the test fast (the harness's own defaults are tested elsewhere).
    params = {"target": "y", "task": "classification", "cv": 2, "baselines": False, "importance": False}
    run = store.run_step(project, "model", code, "build_model", sb, params=params)
    assert run.ok, run.error
    n = sb.runs
    step = store.accept_step(project, "model", code, "build_model", "rule", sandbox=sb, result=run)
    assert sb.runs == n  # the preview's metrics are reused
    assert step.snapshot_id is None and step.result.ok
    assert step.result.metrics["test"]["roc_auc"] > 0.8
    assert store.current_data_path(project) == store.snapshot_path(project, BASE_SNAPSHOT)


def test_diff_summary():
    before = pd.DataFrame({"a": [1, 2, None], "b": ["x", "y", "z"], 3: [0, 0, 0]})
    after = pd.DataFrame({"a": [1.0, 2.0, 0.0], "b": ["x", "y", "z"], "new": [1, 1, 1]})
    d = diff_summary(before, after)
    assert d["added_columns"] == ["new"] and d["removed_columns"] == ["3"]
    assert d["changed_columns"] == ["a"]
    assert (d["missing_before"], d["missing_after"]) == (1, 0)
    rows = diff_summary(before, before.iloc[[0, 2]].assign(b=["x", "Z"]))
    assert rows["rows_after"] == 2 and rows["changed_columns"] == ["b"]
    empty = diff_summary(pd.DataFrame(), pd.DataFrame({"a": []}))
    assert empty["added_columns"] == ["a"] and empty["rows_after"] == 0


def test_old_previews_are_pruned(store, loaded, sb, monkeypatch):
    project, _ = loaded
    monkeypatch.setattr(ProjectStore._prune_runs, "__defaults__", (3,))
    runs = [
        store.run_step(project, "clean", f"def clean(df):\n    return df.head({i})", "clean", sb)
        for i in range(6)
    ]
    left = sorted((store.project_dir(project) / "previews").glob("*.parquet"))  # copies outside the workspace
    assert len(left) == 3
    assert Path(runs[-1].output_path).is_file() and not Path(runs[0].output_path).exists()
