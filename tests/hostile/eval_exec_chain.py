# expect: refused
# mode: transform
PARAMS: dict = {}


def clean(df):
    src = "import os; os.remove(" + repr(PARAMS["marker"]) + ")"
    exec(eval("compile(" + repr(src) + ", 'x', 'exec')"))
    return df
