# expect: crash
# mode: transform
import faulthandler

PARAMS: dict = {}


def clean(df):
    faulthandler._sigsegv()  # a real SIGSEGV in native code, no ctypes needed
    return df
