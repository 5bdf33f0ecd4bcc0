# expect: refused
# mode: transform
import importlib

PARAMS: dict = {}


def clean(df):
    importlib.import_module("os").remove(PARAMS["marker"])
    return df
