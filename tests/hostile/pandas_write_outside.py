# expect: refused
# mode: transform
PARAMS: dict = {}


def clean(df):
    df.to_csv(PARAMS["raw"], index=False)
    df.to_parquet(PARAMS["pwned"])
    return df
