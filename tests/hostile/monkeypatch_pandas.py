# expect: ok,exception,contract
# mode: transform
import pandas as pd

PARAMS: dict = {}

pd.DataFrame.copy = lambda self, deep=True: "poisoned"
pd.read_parquet = lambda *a, **k: None
pd.options.display.max_rows = 1


def clean(df):
    return df
