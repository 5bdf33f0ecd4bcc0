"""The stage registry: a toy stage, declared in one place, flows through the engine, the project
state and the exports without an edit anywhere else."""

from __future__ import annotations

from functools import partial

import pandas as pd
import pytest

from core import stages
from core.engine.session import propose
from core.export.notebook import to_notebook
from core.export.report import to_markdown
from core.llm.fake import FakeBackend
from core.models import DatasetProfile, Project
from core.project import ProjectStore
from core.recipes.base import Recipe, render_transform
from core.sandbox.local import LocalSandbox

TOY = stages.Contract("dedupe", "df", "def dedupe(df: pd.DataFrame) -> pd.DataFrame:")


def _recipes(profile: DatasetProfile | None, target: str | None, task: str | None) -> list[Recipe]:
    if profile is None or not profile.n_duplicate_rows:
        return []
    return [Recipe("dedupe.rows", "dedupe", "Drop repeated rows", "a row seen twice is counted once.",
                   code="df = df.drop_duplicates()")]  # fmt: skip


@pytest.fixture
def toy():
    spec = stages.register(
        stages.StageSpec(
            name="dedupe", title="De-duplicate", order=4, kind="transform", contract=TOY, recipes=_recipes,
            render=partial(render_transform, "dedupe", signature=TOY.signature),
            prompts=stages.StagePrompts(scaffold="clean/scaffold.j2", examples="clean/examples.txt"),
        )
    )  # fmt: skip
    yield spec
    stages.unregister("dedupe")


def table() -> pd.DataFrame:
    base = pd.DataFrame({"a": range(20), "b": [x * 0.5 for x in range(20)], "y": [0, 1] * 10})
    return pd.concat([base, base.head(5)], ignore_index=True)


def test_the_registry_lists_the_stages_in_order(toy):
    names = [s.name for s in stages.ordered()]
    assert names[:3] == ["load", "profile", "clean"] and names[-1] == "report"
    assert "dedupe" in [s.name for s in stages.code_stages()]
    with pytest.raises(stages.UnknownStage, match="the stages are: load, profile"):
        stages.get("nope")


def test_a_toy_stage_flows_through_the_engine(toy, sandbox):
    project = Project(id="t", name="t", target="y")
    rules = propose("dedupe", project, None, sandbox, data=table())
    assert rules.verified and rules.provenance == "rule" and "def dedupe(df" in rules.code
    assert rules.recipes == ["dedupe.rows"] and not rules.nothing_to_do
    # Gemma writes the plan's code for the toy stage too: its prompt carries the toy plan.
    fb = FakeBackend(["    df = df.drop_duplicates()\n"])
    written = propose("dedupe", project, fb, sandbox, data=table(), technique="scaffold")
    assert written.verified and written.provenance == "gemma", written.provenance_detail
    assert "# Drop repeated rows" in fb.prompts[0] and written.entrypoint == "dedupe"
    # A table without repeats: nothing to do, not a step.
    nothing = propose("dedupe", project, fb, sandbox, data=table().drop_duplicates())
    assert nothing.nothing_to_do and "nothing to do" in nothing.provenance_detail


def test_a_toy_stage_flows_through_the_project_and_the_exports(toy, tmp_path):
    src = tmp_path / "t.csv"
    table().to_csv(src, index=False)
    store = ProjectStore(tmp_path / "projects")
    project = store.create("toy")
    store.import_raw(project, src)
    sb = LocalSandbox(store.workspace_path(project))
    try:
        p = propose("dedupe", project, None, sb, data=store.current_frame(project))
        step = store.accept_step(project, "dedupe", p.code, p.entrypoint, p.provenance, p.provenance_detail,
                                 proposal=p, rationale=p.rationale, sandbox=sb)  # fmt: skip
    finally:
        sb.close()
    assert step.snapshot_id  # a transform stage makes the next snapshot
    assert len(store.current_frame(project)) == 20
    cells = "\n".join(c.source for c in to_notebook(project, "t.csv").cells)
    assert "## De-duplicate: " in cells and "df = dedupe(df)" in cells
    assert "De-duplicate" in to_markdown(project)
