"""The fast profile: the one source of facts about a table (no LLM).

`profile_dataframe` (core.profile.dataset) builds the `DatasetProfile` from per-column work
(core.profile.columns) and between-column work: correlations, target candidates, leakage
(core.profile.relations). core.profile.facts lists what a profile states, for checking data
descriptions; core.profile.ydata renders the optional ydata-profiling report.
"""

from core.profile.columns import SAMPLE_ROWS, SEED
from core.profile.dataset import profile_dataframe
from core.profile.facts import profile_to_facts
from core.profile.relations import HIGH_CORR, correlation_matrix, find_leakage, target_candidates
from core.profile.ydata import dataset_hash, ydata_report

__all__ = [
    "HIGH_CORR",
    "SAMPLE_ROWS",
    "SEED",
    "correlation_matrix",
    "dataset_hash",
    "find_leakage",
    "profile_dataframe",
    "profile_to_facts",
    "target_candidates",
    "ydata_report",
]
