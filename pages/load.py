"""Load: upload a file or pick a bundled sample; see what was detected; override and reload."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from app import common as ui
from core import io, samples
from core.safe_text import escape_md

ui.sidebar("load")
st.title("📂 Load data")

store = ui.get_store()


def _load(src: Path, filename: str, options: object | None = None, target: str | None = None) -> None:
    """Read the file first (so a bad file changes nothing), then store it in a project."""
    try:
        # No row cap: big files are sampled by core.io itself (and say so).
        loaded = io.load_table(src, options)
    except io.LoadError as e:
        st.error(f"Could not load **{escape_md(filename)}**: {escape_md(e)}")
        return
    project = ui.current_project()
    if project is None or project.dataset is not None:
        # A new dataset is a new project: the previous one stays in the project list.
        project = store.create(Path(filename).stem or "project")
    try:
        store.import_raw(
            project,
            src,
            loaded.options,
            filename=filename,
            loaded_df=loaded.df,
            warnings=list(loaded.warnings),
            sampled=loaded.sampled,
            n_rows_total=loaded.n_rows_total,
        )
    except io.LoadError as e:
        st.error(f"Could not load **{escape_md(filename)}**: {escape_md(e)}")
        return
    project = store.open(project.id)
    project.profile = None
    if target:
        project.target = target
    store.save(project)
    ui.set_project(project)
    st.session_state["load_warnings"] = list(loaded.warnings)
    st.rerun()


# --------------------------------------------------------------------------- sources
left, right = st.columns([3, 2])
with left:
    st.subheader("Upload a file")
    up = st.file_uploader(
        "CSV, TSV, Excel (xlsx), Parquet, JSON or JSON Lines",
        type=["csv", "tsv", "txt", "xlsx", "xls", "parquet", "pq", "json", "jsonl", "ndjson"],
        key="upload",
    )
    if up is not None and st.button("Load this file", type="primary", key="load_upload"):
        tmp = Path(tempfile.mkdtemp(prefix="upload_")) / Path(up.name).name
        tmp.write_bytes(up.getvalue())
        _load(tmp, up.name)

with right:
    st.subheader("…or try a bundled sample")
    for s in samples.list_samples():
        name = getattr(s, "name", s)
        desc = getattr(s, "description", "") or getattr(s, "title", "")
        target = getattr(s, "target", None)
        st.markdown(f"**{name}** — {desc}" + (f" (target: `{target}`)" if target else ""))
        origin = getattr(s, "origin", "")
        licence = getattr(s, "licence", "") or getattr(s, "license", "")
        if origin or licence:
            st.caption(f"{origin} · licence: {licence}")
        if st.button(f"Load sample: {name}", key=f"sample_{name}"):
            path = Path(samples.sample_path(name))
            _load(path, path.name, target=target)

# --------------------------------------------------------------------------- what was loaded
project = ui.current_project()
if project is None or project.dataset is None:
    st.info("Nothing loaded yet. Upload a file or click a sample.")
    st.stop()

ds = project.dataset
st.divider()
st.subheader(f"Loaded: {escape_md(ds.filename)}")
c1, c2, c3 = st.columns(3)
c1.metric("Rows", f"{ds.n_rows:,}")
c2.metric("Columns", f"{ds.n_cols:,}")
c3.metric("Size", f"{ds.size_bytes / 1e6:.2f} MB")
if ds.sampled:
    st.warning(
        f"This file is large: the pages and the prompts work on a sample of {ds.sample_rows or 0:,} rows. "
        "The full data is what the exported notebook reproduces: accepted code is re-run on every row there."
    )
for w in list(ds.warnings) + st.session_state.pop("load_warnings", []):
    st.warning(w)

opts = ds.options
with st.expander("Detected settings (change and reload)", expanded=False):
    with st.form("load_options"):
        fmt = st.selectbox(
            "Format",
            ["csv", "excel", "parquet", "json", "jsonl"],
            index=["csv", "excel", "parquet", "json", "jsonl"].index(opts.format),
        )
        cc = st.columns(4)
        delim_labels = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}
        delims = [",", ";", "\t", "|"]
        delim = cc[0].selectbox(
            "Delimiter",
            delims,
            index=delims.index(opts.delimiter) if opts.delimiter in delims else 0,
            format_func=lambda d: delim_labels.get(d, d),
        )
        encs = ["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]
        cur_enc = (opts.encoding or "utf-8").lower()
        enc_choices = encs if cur_enc in encs else [cur_enc, *encs]
        enc = cc[1].selectbox("Encoding", enc_choices, index=enc_choices.index(cur_enc))
        dec = cc[2].selectbox("Decimal", [".", ","], index=1 if opts.decimal == "," else 0)
        header = cc[3].number_input(
            "Header row (-1: none)",
            min_value=-1,
            value=-1 if opts.header_row is None else int(opts.header_row),
        )
        sheets: list[str] = []
        if opts.format == "excel":
            try:
                sheets = list(io.excel_sheets(store.raw_path(project)))
            except io.LoadError:
                sheets = []
        sheet = None
        if fmt == "excel":
            if sheets:
                sheet = st.selectbox(
                    "Sheet", sheets, index=sheets.index(opts.sheet) if opts.sheet in sheets else 0
                )
            else:
                sheet = st.text_input("Sheet (name)", value=opts.sheet or "")
        skip = st.number_input("Rows to skip at the top", min_value=0, value=int(opts.skip_rows))
        if st.form_submit_button("Reload with these settings"):
            new = opts.model_copy(
                update={
                    "format": fmt,
                    "delimiter": delim,
                    "encoding": enc,
                    "decimal": dec,
                    "header_row": None if header < 0 else int(header),
                    "sheet": sheet or None,
                    "skip_rows": int(skip),
                }
            )
            raw = store.raw_path(project)
            try:
                loaded = io.load_table(raw, new)
                store.import_raw(
                    project,
                    raw,
                    loaded.options,
                    filename=ds.filename,
                    loaded_df=loaded.df,
                    warnings=list(loaded.warnings),
                    sampled=loaded.sampled,
                    n_rows_total=loaded.n_rows_total,
                )
                project = store.open(project.id)
                project.profile = None
                store.save(project)
                st.success("Reloaded with the new settings.")
                st.rerun()
            except io.LoadError as e:
                st.error(f"These settings do not work: {e}. The previous settings are kept.")
    st.json(opts.model_dump(), expanded=False)

df = ui.current_frame(project)
if df is not None:
    st.subheader("Preview")
    preview, cut_note = io.preview_frame(df.head(100))  # long cells would freeze the data grid
    if cut_note:
        st.caption(cut_note)
    ui.show_frame(preview, rows=100)
    st.page_link(ui.PAGE_FILES["profile"], label="Next: profile the data →", icon="🔎")
