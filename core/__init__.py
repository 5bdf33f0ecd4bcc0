"""Gemma Data Wizard core: everything that is not UI.

Nothing in this package imports streamlit, so the notebook magic, the CLI
(`python -m core ...`) and the tests reuse exactly what the pages use. The stages are
declared once, in the registry: `core.stages.ordered()`.
"""
