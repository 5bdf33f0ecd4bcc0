"""Model page, safe by default: the detector's findings are shown with their evidence and left out;
one click puts a suspected leak back, the project records it, and the trained model is labelled."""

from __future__ import annotations

import sys
from pathlib import Path

# The page tests' helpers import each other by name (tests/pages is on sys.path when pytest
# collects that folder); put it there so this module can reuse their fixtures and fast model.
sys.path.insert(0, str(Path(__file__).resolve().parent / "pages"))

from apptest_helpers import button, load_sample, texts  # noqa: E402
from test_model_page import FAST_MODEL  # noqa: E402

from tests.pages.conftest import new_app, projects  # noqa: E402, F401 - the page tests' fixtures


def test_put_back_a_suspected_leak_with_one_click_and_see_the_label(new_app, projects):  # noqa: F811
    from core.project import ProjectStore

    at = load_sample(new_app())
    at.switch_page("pages/profile.py").run()
    at.switch_page("pages/model.py").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Left out of the features by default" in shown
    # The bundled weather sample: a row key and a recoding of the target, both with numbers.
    assert "obs_id" in shown and "condition_code" in shown and "suspected leak" in shown
    put_back = [b for b in at.button if b.label == "Put back"]
    assert len(put_back) >= 2
    put_back[-1].click().run()  # identifiers come first, leaks after them
    assert not at.exception, at.exception
    (project,) = ProjectStore(projects).list()  # the state records the put-back, not only the page
    assert project.model_put_back == ["condition_code"]
    assert "A suspected leak is in the features" in texts(at)
    assert any(b.label == "Leave out" for b in at.button)

    button(at, "Propose").click().run()
    at.text_area(key="editor_model_1_plain").set_value(FAST_MODEL).run()
    button(at, "Train on the data").click().run()
    assert not at.exception, at.exception
    assert "SUSPECTED LEAK: trained with condition_code" in texts(at)
    table = next(d.value for d in at.dataframe if "model" in d.value.columns)
    assert "this model ⚠ suspected leak" in list(table["model"])
