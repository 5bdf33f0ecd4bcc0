"""LocalSandbox behaviour on ordinary and messy (not hostile) code: modes, contracts, results."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.sandbox import LocalSandbox, NotASandbox, SandboxJob, SandboxLimits

LIMITS = SandboxLimits(timeout_s=20, memory_mb=1024, cpu_s=30, max_output_chars=5000)


@pytest.fixture(scope="module")
def sb(tmp_path_factory):
    ws = tmp_path_factory.mktemp("sandbox") / "workspace"
    box = LocalSandbox(ws, pool_size=2, limits=LIMITS)
    df = pd.DataFrame({"num": [1.0, 2.0, None, 4.0], "cat": ["a", "b", "a", None], "y": [0, 1, 0, 1]})
    df.to_parquet(box.workspace / "in.parquet")
    yield box
    box.close()


def job(sb, code, mode="transform", entry="clean", **kw):
    return SandboxJob(
        code=code,
        mode=mode,
        entrypoint=entry,
        input_path=sb.workspace / "in.parquet",
        output_path=sb.workspace / kw.pop("out", "out.parquet"),
        **kw,
    )


def clean_job(code: str, input_path: Path, output_path: Path, **kw) -> SandboxJob:
    """A transform job (entry point `clean`) on files other than the module sandbox's own."""
    return SandboxJob(code=code, entrypoint="clean", input_path=input_path, output_path=output_path, **kw)


def test_transform_roundtrip_with_stdout(sb):
    res = sb.run(job(sb, "def clean(df):\n    print('rows', len(df))\n    return df.dropna()"))
    assert res.ok, res.error
    assert res.shape == (2, 3)
    assert res.stdout.strip() == "rows 4"
    out = pd.read_parquet(res.output_path)
    assert out["num"].tolist() == [1.0, 2.0]
    assert res.duration_s > 0


def test_contract_violation_is_reported(sb):
    res = sb.run(job(sb, "def clean(df):\n    df.dropna(inplace=True)"))
    assert not res.ok and res.error_kind == "contract"
    assert "NoneType" in res.error and "DataFrame" in res.error
    missing = sb.run(job(sb, "def tidy(df):\n    return df"))
    assert missing.error_kind == "contract" and "clean" in missing.error


def test_exceptions_and_syntax_errors_are_one_line(sb):
    res = sb.run(job(sb, "def clean(df):\n    return df['nope']"))
    assert res.error_kind == "exception" and res.error.startswith("KeyError")
    assert "<step>" in res.traceback and "guard.py" not in res.traceback
    bad = sb.run(job(sb, "def clean(df)\n    return df"))
    assert bad.error_kind == "exception" and bad.error.startswith("SyntaxError")


def test_messy_results_still_become_parquet(sb):
    code = (
        "import pandas as pd\n"
        "def clean(df):\n"
        "    out = pd.DataFrame({0: [1, 'two', 3.5, None], 'dup': [1, 2, 3, 4], 'c': [1+2j, 0, 0, 0],\n"
        "                        'h': pd.array([1.5, 2, 3, 4], dtype='float16')})\n"
        "    out['d'] = [{'k': 1}, [1, 2], 'x', None]\n"
        "    return pd.concat([out, out[['dup']]], axis=1)\n"
    )
    res = sb.run(job(sb, code))
    assert res.ok, res.error
    out = pd.read_parquet(res.output_path)
    assert list(out.columns) == ["0", "dup", "c", "h", "d", "dup_2"]
    assert out["0"].tolist()[:3] == ["1", "two", "3.5"] and out["0"].isna().iloc[3]
    assert res.shape == (4, 6)


def test_script_mode_value_and_figures(sb):
    code = (
        "import plotly.express as px\n"
        "fig = px.bar(x=['a', 'b'], y=[1, 2])\n"
        "fig.show()\n"
        "def answer(df):\n"
        "    print(df['num'].mean())\n"
        "    return df.groupby('cat')['num'].sum()\n"
    )
    res = sb.run(job(sb, code, mode="script", entry="answer"))
    assert res.ok, res.error
    assert res.value["type"] == "series" and res.value["data"] == [1.0, 2.0]
    assert len(res.figures) == 1 and res.figures[0]["data"][0]["type"] == "bar"
    assert res.stdout.strip() == str(np.mean([1.0, 2.0, 4.0]))


def test_script_result_variable(sb):
    res = sb.run(SandboxJob(code="import math\nresult = {'pi': math.pi, 'nan': float('nan')}", mode="script"))
    assert res.ok and res.value == {"pi": pytest.approx(3.14159, 1e-4), "nan": None}


def test_model_mode_uses_the_harness(sb, tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.choice(["a", "b"], size=n)})
    df["y"] = (df["x1"] + (df["x2"] == "a") > 0.5).astype(int)
    df.to_parquet(sb.workspace / "model_in.parquet")
    code = (
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import OneHotEncoder\n"
        "def build_model(X):\n"
        "    enc = OneHotEncoder(handle_unknown='ignore')\n"
        "    ct = make_column_transformer((enc, ['x2']), remainder='passthrough')\n"
        "    return make_pipeline(ct, LogisticRegression())\n"
    )
    res = sb.run(
        SandboxJob(
            code=code,
            mode="model",
            entrypoint="build_model",
            input_path=sb.workspace / "model_in.parquet",
            params={
                "target": "y",
                "task": "classification",
                "cv": 2,
                "importance": False,
                "baselines": False,
                "model_path": "model.pkl",
            },
        )
    )
    assert res.ok, (res.error, res.traceback)
    assert res.value["task"] == "classification"
    assert res.value["test"]["roc_auc"] > 0.7
    assert (sb.workspace / "model.pkl").exists()


def test_inputs_outside_the_workspace_are_read_only(sb, tmp_path):
    outside = tmp_path / "x.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(outside)
    before = outside.read_bytes()
    ok = sb.run(clean_job("def clean(df):\n    return df", outside, sb.workspace / "o.parquet"))
    assert ok.ok, ok.error
    code = f"def clean(df):\n    open({str(outside)!r}, 'wb').write(b'x')\n    return df"
    attack = sb.run(clean_job(code, outside, sb.workspace / "o.parquet"))
    assert attack.error_kind == "refused"
    assert outside.read_bytes() == before
    (tmp_path / "other.txt").write_text("not for the step")
    sibling = sb.run(
        SandboxJob(
            code=f"result = open({str(tmp_path / 'other.txt')!r}).read()", mode="script", input_path=outside
        )
    )
    assert sibling.error_kind == "refused"  # only the input file itself is readable
    bad_out = sb.run(clean_job("def clean(df):\n    return df", outside, tmp_path / "o.parquet"))
    assert bad_out.error_kind == "refused"


def test_cached_input_changes_are_private_to_the_step(sb):
    mutate = "def clean(df):\n    df['num'] = -1\n    df.drop(index=0, inplace=True)\n    return df"
    assert sb.run(job(sb, mutate)).ok
    res = sb.run(job(sb, "def clean(df):\n    return df"))
    out = pd.read_parquet(res.output_path)
    assert len(out) == 4 and out["num"].iloc[0] == 1.0  # the next step sees the original input
    # A rewritten input file is read again, not served from the cache.
    inp = sb.workspace / "in2.parquet"
    ident = clean_job("def clean(df):\n    return df", inp, sb.workspace / "o2.parquet")
    for value in (9.0, 7.0):
        pd.DataFrame({"num": [value]}).to_parquet(inp)
        res2 = sb.run(ident)
        assert pd.read_parquet(res2.output_path)["num"].tolist() == [value]


def test_per_job_workspace(sb, tmp_path):
    ws2 = tmp_path / "other_ws"
    ws2.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_parquet(ws2 / "in.parquet")
    code = "def clean(df):\n    open('note.txt', 'w').write('hi')\n    return df"
    res = sb.run(clean_job(code, ws2 / "in.parquet", ws2 / "out.parquet", workspace=ws2))
    assert res.ok, res.error
    assert (ws2 / "note.txt").read_text() == "hi"
    # ...and that job could not touch the sandbox's default workspace.
    res2 = sb.run(
        SandboxJob(code=f"open({str(sb.workspace / 'x.txt')!r}, 'w')", mode="script", workspace=ws2)
    )
    assert res2.error_kind == "refused"


def test_concurrent_sessions(sb):
    results = {}

    def go(i):
        results[i] = sb.run(job(sb, f"def clean(df):\n    return df.assign(k={i})", out=f"o{i}.parquet"))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(results[i].ok for i in range(4)), [r.error for r in results.values()]
    assert [pd.read_parquet(results[i].output_path)["k"].iloc[0] for i in range(4)] == [0, 1, 2, 3]


def test_not_a_sandbox_shares_the_harness(tmp_path):
    nas = NotASandbox(tmp_path)
    inp, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(inp)
    res = nas.run(clean_job("def clean(df):\n    return df * 2", inp, out))
    assert res.ok and pd.read_parquet(res.output_path)["a"].tolist() == [2, 4]
    bad = nas.run(clean_job("def clean(df):\n    return 1", inp, out))
    assert bad.error_kind == "contract"


def test_dead_worker_is_replaced(tmp_path):
    box = LocalSandbox(tmp_path / "ws", limits=LIMITS)
    try:
        assert box.warm_up()
        z = box._idle.queue[0]
        z.kill()  # simulate a worker that died between jobs
        first = box.run(SandboxJob(code="result = 1", mode="script"))
        assert first.ok and first.value == 1
        # A worker that dies during a step: the step reports a crash, the next one runs.
        crash = box.run(SandboxJob(code="import os\nos.killpg(0, 9)", mode="script"))
        assert not crash.ok and crash.error_kind == "crash"
        second = box.run(SandboxJob(code="result = 2", mode="script"))
        assert second.ok and second.value == 2
    finally:
        box.close()
    assert box.run(SandboxJob(code="result = 1", mode="script")).error == "the sandbox is closed"


def test_workers_are_gone_after_close(tmp_path):
    box = LocalSandbox(tmp_path / "ws")
    assert box.warm_up()
    pids = [z.proc.pid for z in box._all]
    box.close()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_parallel_sklearn_code_runs_in_process(sb):
    code = (
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import cross_val_score\n"
        "import numpy as np\n"
        "X = np.random.default_rng(0).normal(size=(60, 3))\n"
        "y = (X[:, 0] > 0).astype(int)\n"
        "result = float(cross_val_score(LogisticRegression(), X, y, cv=3, n_jobs=-1).mean())\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "RandomForestClassifier(n_estimators=5, n_jobs=-1).fit(X, y)\n"
    )
    res = sb.run(SandboxJob(code=code, mode="script"))
    assert res.ok, res.error
    assert res.value > 0.7


def test_a_worker_that_cannot_start_says_so(tmp_path):
    box = LocalSandbox(tmp_path / "ws", python="/bin/false", start_timeout_s=20)
    try:
        res = box.run(SandboxJob(code="result = 1", mode="script"))
        assert not res.ok and res.error_kind == "crash" and "did not start" in res.error
    finally:
        box.close()


def test_pandas_internal_gc_use_is_not_refused(sb):
    """`df = df[mask]; df[col] = …` makes pandas call gc.get_referents (SettingWithCopy check):
    ordinary code, so allowed; the step's own gc calls stay refused (tests/hostile/gc_walk.py)."""
    res = sb.run(job(sb, "def clean(df):\n    df = df[df['y'] > 0]\n    df['x'] = 1\n    return df"))
    assert res.ok, res.error
    assert res.shape == (2, 4)
