# expect: refused
# mode: transform
PARAMS: dict = {}


def clean(df):
    with open(PARAMS["pwned"], "w") as fh:
        fh.write("escaped")
    return df
