# expect: memory
# mode: transform
import numpy as np
import pandas as pd

PARAMS: dict = {}


def clean(df):
    return pd.DataFrame({"a": np.arange(10**8), "b": np.zeros(10**8)})
