# expect: refused
# mode: transform
import os
import signal

PARAMS: dict = {}


def clean(df):
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(PARAMS["test_pid"], signal.SIGKILL)
    return df
