# expect: refused
# mode: transform
import os

PARAMS: dict = {}


def clean(df):
    os.symlink(PARAMS["raw"], "raw_link")
    with open("raw_link", "wb") as fh:
        fh.write(b"gone")
    return df
