# expect: refused
# mode: transform
import builtins

PARAMS: dict = {}


def clean(df):
    opener = getattr(__builtins__, "open", None) or __builtins__["open"]
    opener(PARAMS["marker"], "w").write("overwritten")
    builtins.__dict__["open"](PARAMS["marker"], "w").write("overwritten")
    return df
