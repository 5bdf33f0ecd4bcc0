# expect: refused,crash
# mode: transform
import ctypes

PARAMS: dict = {}


def clean(df):
    libc = ctypes.CDLL(None)
    libc.system(f"touch {PARAMS['pwned']}".encode())
    return df
