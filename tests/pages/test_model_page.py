"""Model page: target and task, leakage warnings, training beside both baselines, comparison."""

from __future__ import annotations

from apptest_helpers import button, load_sample, texts

import core.engine.session  # noqa: E402,F401 - a broken engine import fails these tests

FAST_MODEL = """
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder


def build_model(X):
    encode = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="most_frequent"),
                       OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)),
         make_column_selector(dtype_exclude="number")),
        remainder=SimpleImputer(),
    )
    return make_pipeline(encode, LogisticRegression(max_iter=200))
"""


def test_model_trains_and_shows_baselines(new_app, projects):
    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    at.switch_page("pages/model.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="model_target").value
    assert at.selectbox(key="model_task").value in ("classification", "regression")
    button(at, "Propose").click().run()
    editor = at.text_area(key="editor_model_1_plain")
    assert "def build_model(" in editor.value
    assert "Provenance:" in texts(at)
    # A quick pipeline keeps this test fast; the harness still scores both baselines beside it.
    editor.set_value(FAST_MODEL).run()
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
    # The accepted model is listed in the comparison table beside the baselines, with its provenance.
    compare = next(d.value for d in at.dataframe if "provenance" in d.value.columns)
    rows = list(compare["model"])
    assert sum(not str(m).startswith("baseline") for m in rows) == 1
    assert "LogisticRegression" in rows[0]
    assert "baseline: hgb_default" in rows
