"""Model page: target and task, leakage warnings, training beside both baselines, comparison."""

from __future__ import annotations

import pytest
from apptest_helpers import button, load_sample, texts

pytest.importorskip("core.samples")
pytest.importorskip("core.propose")


def test_model_trains_and_shows_baselines(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    at.switch_page("pages/model.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="model_target").value
    assert at.selectbox(key="model_task").value in ("classification", "regression")
    button(at, "Propose").click().run()
    assert "def build_model(" in at.text_area(key="editor_model_1_plain").value
    button(at, "Train on the data").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "model" in d.value.columns)
    models = list(table["model"])
    assert "baseline: dummy" in models and "baseline: hgb_default" in models
    metric_cols = [c for c in table.columns if c.startswith("test ")]
    assert metric_cols and table[metric_cols[0]].notna().all()

    button(at, "Accept").click().run()
    assert not at.exception, at.exception
    assert "Trained models" in texts(at)
    # A second model proposal shows up in the same comparison table.
    button(at, "Propose").click().run()
    button(at, "Accept").click().run()
    compare = next(d.value for d in at.dataframe if "provenance" in d.value.columns)
    assert sum(not str(m).startswith("baseline") for m in compare["model"]) == 2
