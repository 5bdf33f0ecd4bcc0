# expect: refused
# mode: transform
# requires: landlock
# Another project's snapshot, by its absolute path.
import pandas as pd

PARAMS: dict = {}


def clean(df):
    return pd.read_parquet(PARAMS["other_project"])
