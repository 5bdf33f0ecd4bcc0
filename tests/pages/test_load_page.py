"""Load page: samples, uploads, bad files, override settings, coming back after a refresh."""

from __future__ import annotations

from apptest_helpers import button, load_sample, shown, texts


def _store(projects):
    from core.project import ProjectStore

    return ProjectStore(projects)


def test_sample_loads_and_shows_preview(new_app, projects):
    at = load_sample(new_app())
    out = texts(at)
    assert "Loaded:" in out
    assert at.dataframe, "no preview table rendered"
    preview = at.dataframe[-1].value
    assert len(preview) > 0 and preview.shape[1] >= 2
    pid = at.query_params["project"]
    project = _store(projects).open(pid[0] if isinstance(pid, list) else pid)
    assert project.dataset is not None
    assert list(preview.columns)[:3] == [str(c) for c in _store(projects).current_frame(project).columns][:3]
    # The sidebar shows the load stage as done and the project's name.
    sidebar = " ".join(str(p.label) for p in at.sidebar.get("page_link"))
    assert "1 · Load (done)" in sidebar or "1 · Load (current)" in sidebar


def test_upload_csv_with_semicolons(new_app, projects):
    at = new_app()
    at.run()
    data = "name;price;city\nAnna;1,5;Köln\nBen;2,25;Berlin\nCara;3,0;Köln\n".encode()
    at.file_uploader[0].set_value(("prices.csv", data, "text/csv"))
    at.run()
    button(at, "Load this file").click().run()
    assert not at.exception
    out = texts(at)
    assert "Loaded: prices.csv" in out
    df = at.dataframe[-1].value
    assert list(df.columns) == ["name", "price", "city"]
    assert len(df) == 3


def test_bad_file_shows_error_and_keeps_project(new_app, projects):
    at = load_sample(new_app())
    before = at.query_params["project"]
    at.file_uploader[0].set_value(
        ("broken.parquet", b"\x00\x01 not parquet at all", "application/octet-stream")
    )
    at.run()
    button(at, "Load this file").click().run()
    assert not at.exception
    assert at.error, "a bad file must give a clear error"
    assert "broken.parquet" in shown(at.error[0].value)
    # Nothing lost: the previous project is still open with its data.
    assert at.query_params["project"] == before
    assert "Loaded:" in texts(at)


def test_refresh_brings_the_project_back(new_app, projects):
    at = load_sample(new_app())
    pid = at.query_params["project"]
    pid = pid[0] if isinstance(pid, list) else pid
    again = new_app(pid)  # a new session with the URL's ?project=...
    again.run()
    assert not again.exception
    assert "Loaded:" in texts(again)


def test_sampled_large_file_is_said_plainly(new_app, projects):
    at = load_sample(new_app())
    pid = at.query_params["project"]
    store = _store(projects)
    project = store.open(pid[0] if isinstance(pid, list) else pid)
    # What core.io records for a file above its size threshold: a seeded sample of the rows.
    project.dataset.sampled = True
    project.dataset.sample_rows = 1000
    project.dataset.n_rows = 5_000_000
    store.save(project)
    at.run()
    warning = " ".join(w.value for w in at.warning)
    assert "sample of 1,000 rows" in warning and "full data" in warning
    assert "5,000,000" in texts(at)


def test_excel_sheet_can_be_picked_and_reloaded(new_app, projects):
    import io as _io

    import pandas as pd

    buf = _io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_excel(xw, sheet_name="first", index=False)
        pd.DataFrame({"price": [9.5, 7.25], "city": ["Köln", "Graz"]}).to_excel(
            xw, sheet_name="second", index=False
        )
    at = new_app()
    at.run()
    at.file_uploader[0].set_value(("book.xlsx", buf.getvalue(), "application/vnd.ms-excel"))
    at.run()
    button(at, "Load this file").click().run()
    assert not at.exception, at.exception
    sheet = next(s for s in at.selectbox if s.label == "Sheet")
    assert sheet.options == ["first", "second"]
    sheet.set_value("second")
    button(at, "Reload with these settings").click().run()
    assert not at.exception, at.exception
    assert list(at.dataframe[-1].value.columns) == ["price", "city"]


def test_sessions_do_not_see_each_others_project(new_app, projects):
    a = load_sample(new_app())
    assert "Loaded:" in texts(a)
    b = new_app()  # a second browser session on the same server, no project in its URL
    b.run()
    assert not b.exception
    assert "Loaded:" not in texts(b)
    assert "No project open" in texts(b)
