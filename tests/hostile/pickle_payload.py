# expect: refused
# mode: transform
import pickle

PARAMS: dict = {}


def clean(df):
    payload = b"cos\nsystem\n(S'touch " + PARAMS["pwned"].encode() + b"'\ntR."
    pickle.loads(payload)
    return df
