# expect: refused
# mode: transform
import os

PARAMS: dict = {}


def clean(df):
    os.remove(PARAMS["marker"])
    return df
