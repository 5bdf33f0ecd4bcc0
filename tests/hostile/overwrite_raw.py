# expect: refused
# mode: transform
PARAMS: dict = {}


def clean(df):
    with open(PARAMS["raw"], "wb") as fh:
        fh.write(b"all your data are gone")
    return df
