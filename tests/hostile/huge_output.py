# expect: ok
# mode: transform
PARAMS: dict = {}


def clean(df):
    chunk = "x" * 1_000_000
    for _ in range(200):
        print(chunk)
    return df
