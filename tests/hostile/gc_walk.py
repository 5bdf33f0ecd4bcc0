# expect: refused
# mode: transform
import gc

PARAMS: dict = {}


def clean(df):
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", "") == "hook":
            obj.__code__ = (lambda e, a: None).__code__
    return df
