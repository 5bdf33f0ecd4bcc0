# expect: refused
# mode: transform
import subprocess

PARAMS: dict = {}


def clean(df):
    subprocess.run(["rm", "-f", PARAMS["marker"]], check=True)
    return df
