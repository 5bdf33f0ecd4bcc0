"""ProjectStore with the real LocalSandbox: one warm pool for all projects, each job scoped to its own."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from core.models import LoadOptions
from core.project import ProjectStore, StepError
from core.sandbox import LocalSandbox, SandboxLimits


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("projsb")
    store = ProjectStore(base / "projects")
    # Like the app: one pool for every project; the store gives each job its project's workspace.
    sb = LocalSandbox(base / "projects" / ".sandbox", limits=SandboxLimits(timeout_s=20, memory_mb=1024))
    projects = []
    for name in ("alpha", "beta"):
        raw = base / f"{name}.csv"
        raw.write_text("a,b\n1,x\n2,\n3,z\n")
        p = store.create(name)
        store.import_raw(
            p,
            raw,
            LoadOptions(),
            filename=raw.name,
            loaded_df=pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]}),
        )
        projects.append(p)
    yield store, sb, projects
    sb.close()


def test_accept_through_the_real_sandbox(setup):
    store, sb, (alpha, _) = setup
    run = store.run_step(alpha, "clean", "def clean(df):\n    return df.dropna()", "clean", sb)
    assert run.ok and run.rows_after == 2 and run.sandbox_result.isolation.get("audit_hook")
    step = store.accept_step(
        alpha, "clean", "def clean(df):\n    return df.dropna()", "clean", "gemma", sandbox=sb, result=run
    )
    assert store.current_frame(store.open(alpha.id)).shape == (2, 2)
    assert step.snapshot_id


@pytest.mark.parametrize("target", ["other_snapshot", "own_snapshot", "own_raw", "projects_root"])
def test_a_step_cannot_touch_other_projects_or_its_own_history(setup, target):
    store, sb, (alpha, beta) = setup
    paths = {
        "other_snapshot": store.current_data_path(beta),
        "own_snapshot": store.current_data_path(alpha),
        "own_raw": store.raw_path(alpha),
        "projects_root": store.root,
    }
    victim = paths[target]
    digest = hashlib.sha256(victim.read_bytes()).hexdigest() if victim.is_file() else None
    if target == "projects_root":
        code = f"import os\ndef clean(df):\n    print(os.listdir({str(victim)!r}))\n    return df"
    elif target == "other_snapshot":
        code = f"import pandas as pd\ndef clean(df):\n    return pd.read_parquet({str(victim)!r})"
    else:
        code = f"def clean(df):\n    open({str(victim)!r}, 'wb').write(b'x')\n    return df"
    with pytest.raises(StepError) as e:
        store.accept_step(alpha, "clean", code, "clean", "gemma", sandbox=sb)
    assert "Refused" in str(e.value)
    if digest:
        assert hashlib.sha256(victim.read_bytes()).hexdigest() == digest


def test_scoped_sandbox_confines_jobs_built_elsewhere(setup):
    store, sb, (alpha, beta) = setup
    scoped = store.scoped_sandbox(alpha, sb)
    from core.sandbox import SandboxJob

    ok = scoped.run(SandboxJob(code="open('note.txt', 'w').write('x')\nresult = 1", mode="script"))
    assert ok.ok and (store.workspace_path(alpha) / "note.txt").read_text() == "x"
    target = store.project_dir(beta) / "project.json"
    bad = scoped.run(SandboxJob(code=f"open({str(target)!r}, 'w').write('{{}}')", mode="script"))
    assert bad.error_kind == "refused"
    assert store.open(beta.id).name == "beta"
