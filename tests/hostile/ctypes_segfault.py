# expect: refused,crash
# mode: transform
import ctypes

PARAMS: dict = {}


def clean(df):
    ctypes.string_at(0)
    return df
