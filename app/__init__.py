"""Streamlit components shared by the pages: sidebar and caches (`common`), the stage page, the
proposal and progress views, the model view and the visitor scope. Pages import from here;
`core/` never does."""
