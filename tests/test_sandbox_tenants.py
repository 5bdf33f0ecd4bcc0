"""Issue 16 at the project level: projects belong to someone, the server reads only paths it
derived itself, and previews cannot be swapped before Accept. Uses the real LocalSandbox with
every kernel layer required (fails, not skips, where one is missing)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest

from core.models import LoadOptions
from core.project import ProjectStore, StepError
from core.project_files import OwnedStore, owner_id
from core.sandbox import LocalSandbox, SandboxLimits, policy
from tests.hostile_code import snippet_code


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("tenants")
    store = ProjectStore(base / "projects")
    sb = LocalSandbox(
        base / "projects" / ".sandbox",
        limits=SandboxLimits(timeout_s=20, memory_mb=1024),
        require=policy.SHARED_REQUIRED,
    )
    yield store, sb, base
    sb.close()


def _loaded(store, base, name):
    raw = base / f"{name}.csv"
    raw.write_text("a,b\n1,x\n2,\n3,z\n")
    p = store.create(name)
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]})
    store.import_raw(p, raw, LoadOptions(), filename=raw.name, loaded_df=df)
    return p


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_visitors_see_and_touch_only_their_own_projects(setup):
    store, _, base = setup
    alice, bob = OwnedStore(store, "anon:alice-key-0123456789"), store.for_owner("anon:bob-key-0123456789")
    a = _loaded(alice, base, "alice data")
    b = bob.create("bob")
    assert [p.id for p in alice.list()] == [a.id]
    assert [p.id for p in bob.list()] == [b.id]
    for action in (bob.open, bob.duplicate, bob.delete):
        with pytest.raises(KeyError, match="no project"):  # reads exactly like a missing project
            action(a.id)
    assert store.open(a.id).dataset is not None  # still there, untouched
    copy = alice.duplicate(a.id)
    assert store.owner_of(copy.id) == owner_id("anon:alice-key-0123456789")
    # Only a hash is stored: the projects folder does not hand out anyone's key.
    assert "alice-key" not in (store.project_dir(a) / "owner").read_text()
    # Single-user mode (no owner) keeps today's behaviour: everything is listed.
    assert {a.id, b.id, copy.id} <= {p.id for p in store.for_owner(None).list()}
    alice.delete(copy.id)
    with pytest.raises(KeyError):
        store.open(copy.id)


def test_the_model_download_reads_only_the_projects_own_model_file(setup):
    store, _, base = setup
    p = _loaded(store, base, "models")
    other = _loaded(store, base, "victim")
    models = store.workspace_path(p) / "models"
    models.mkdir(parents=True, exist_ok=True)
    good = models / "model-0123456789ab.pkl"
    good.write_bytes(b"pickle bytes")
    assert store.model_file_bytes(p, {"model_path": str(good)}) == b"pickle bytes"
    # Paths a forged result could name: the server's environment, secrets, another project.
    for forged in (
        "/proc/self/environ",
        str(Path.cwd() / ".streamlit" / "secrets.toml"),
        str(store.raw_path(other)),
        str(models / ".." / ".." / "project.json"),
        None,
    ):
        assert store.model_file_bytes(p, {"model_path": forged}) is None
    # A link planted under a valid name reaches nothing either.
    link = models / "model-aaaaaaaaaaaa.pkl"
    os.symlink(store.raw_path(other), link)
    assert store.model_file_bytes(p, {"model_path": str(link)}) is None


def test_previews_are_copied_out_and_cannot_be_swapped_before_accept(setup):
    store, sb, base = setup
    p = _loaded(store, base, "previews")
    code = "def clean(df):\n    return df.dropna()"
    run = store.run_step(p, "clean", code, "clean", sb)
    assert run.ok, run.error
    preview = Path(run.output_path)
    ws = store.workspace_path(p)
    assert ws not in preview.parents, "the preview must live outside the writable workspace"
    digest = _sha(preview)
    # A later step of the same project tries to tamper (hook off, symlinks, rewrite the copies).
    params = {"raw": str(store.raw_path(p))}
    hostile = snippet_code("preview_swap", params)
    bad = store.run_step(p, "clean", hostile, "clean", sb)
    assert not bad.ok and "Refused" in (bad.error or ""), bad.error
    assert _sha(preview) == digest
    step = store.accept_step(p, "clean", code, "clean", "user", sandbox=sb, result=run)
    snap = store.snapshot_path(p, step.snapshot_id)
    assert _sha(snap) == digest and store.current_frame(p).shape == (2, 2)


@pytest.mark.parametrize("how", ["rewrite", "symlink"])
def test_a_changed_preview_is_never_snapshotted(setup, how):
    store, sb, base = setup
    p = _loaded(store, base, f"tamper-{how}")
    code = "def clean(df):\n    return df.fillna('?')"
    run = store.run_step(p, "clean", code, "clean", sb)
    preview = Path(run.output_path)
    if how == "rewrite":
        pd.DataFrame({"evil": [1]}).to_parquet(preview)
    else:
        preview.unlink()
        os.symlink(store.raw_path(p), preview)
    with pytest.raises(StepError, match="changed"):
        store.accept_step(p, "clean", code, "clean", "user", sandbox=None, result=run)
    assert store.open(p.id).steps == []  # nothing accepted, nothing lost


def test_shared_deployment_pages_show_each_visitor_only_their_projects(tmp_path, monkeypatch):
    """The real app (AppTest) with GEMMA_WIZARD_SHARED=1: two browsers, two visitor keys."""
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("GEMMA_WIZARD_PROJECTS", str(tmp_path / "projects"))
    monkeypatch.setenv("GEMMA_WIZARD_BACKEND", "fake")
    monkeypatch.setenv("GEMMA_WIZARD_PLAIN_EDITOR", "1")
    monkeypatch.setenv(policy.SHARED_ENV, "1")
    monkeypatch.chdir(root)
    try:
        alice = AppTest.from_file(str(root / "streamlit_app.py"), default_timeout=120)
        alice.run()
        assert not alice.exception, alice.exception
        next(b for b in alice.button if str(b.label).startswith("Load sample: ")).click().run()
        assert not alice.exception, alice.exception
        key = alice.query_params["visitor"]
        pid = alice.session_state["project_id"]
        alice.switch_page("pages/projects.py").run()
        assert len([b for b in alice.button if b.label == "Open"]) == 1
        assert any("Sandbox" in c.value for c in alice.sidebar.caption), "the layers line is missing"

        bob = AppTest.from_file(str(root / "streamlit_app.py"), default_timeout=120)
        bob.query_params["project"] = pid  # Alice's project id, e.g. from a shared screenshot
        bob.run()
        assert not bob.exception, bob.exception
        assert bob.query_params["visitor"] != key
        try:
            opened = bob.session_state["project_id"]
        except KeyError:
            opened = None
        assert opened != pid
        assert any("could not be opened" in w.value for w in bob.warning)
        bob.switch_page("pages/projects.py").run()
        assert [b for b in bob.button if b.label == "Open"] == []
    finally:
        from app import common as ui_common

        ui_common.close_sandboxes()


def test_model_download_is_the_projects_own_file_and_says_what_a_pickle_is(tmp_path, monkeypatch):
    """The model page's download: labelled as a pickle that runs code, bytes from the project."""
    import pickle

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("GEMMA_WIZARD_PROJECTS", str(tmp_path / "projects"))
    monkeypatch.setenv("GEMMA_WIZARD_BACKEND", "fake")
    monkeypatch.setenv("GEMMA_WIZARD_PLAIN_EDITOR", "1")
    monkeypatch.chdir(root)
    code = (
        "from sklearn.dummy import DummyClassifier\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.compose import make_column_selector, make_column_transformer\n"
        "def build_model(X):\n"
        "    pick = make_column_transformer(('passthrough', make_column_selector(dtype_include='number')))\n"
        "    return make_pipeline(pick, DummyClassifier())\n"
    )
    try:
        at = AppTest.from_file(str(root / "streamlit_app.py"), default_timeout=180)
        at.run()
        next(b for b in at.button if str(b.label).startswith("Load sample: ")).click().run()
        at.switch_page("pages/model.py").run()
        next(b for b in at.button if str(b.label).startswith("Propose")).click().run()
        at.text_area(key="editor_model_1_plain").set_value(code).run()
        next(b for b in at.button if str(b.label).startswith("Train on the data")).click().run()
        assert not at.exception, at.exception
        dl = [b for b in at.get("download_button") if "pickle" in str(b.proto.label)]
        assert dl and "runs code" in dl[0].proto.label
        assert any("runs whatever code it contains" in c.value for c in at.caption)
        store = ProjectStore(tmp_path / "projects")
        (project,) = store.list()
        files = list((store.workspace_path(project) / "models").glob("model-*.pkl"))
        assert len(files) == 1 and hasattr(pickle.loads(files[0].read_bytes()), "predict")
    finally:
        from app import common as ui_common

        ui_common.close_sandboxes()
