# expect: refused
# mode: transform
import os

PARAMS: dict = {}


def clean(df):
    os.system(f"touch {PARAMS['pwned']}; rm -f {PARAMS['marker']}")
    return df
