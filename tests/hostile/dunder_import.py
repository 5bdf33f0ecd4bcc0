# expect: refused
# mode: transform
PARAMS: dict = {}


def clean(df):
    __import__("os").system("touch " + PARAMS["pwned"])
    __import__("subprocess").Popen(["rm", PARAMS["marker"]])
    return df
