# expect: refused
# mode: transform
import shutil

PARAMS: dict = {}


def clean(df):
    shutil.rmtree(PARAMS["outside_dir"])
    return df
