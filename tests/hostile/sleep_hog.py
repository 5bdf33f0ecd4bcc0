# expect: timeout
# mode: transform
# Sleeps (no CPU, so no CPU limit fires) to hold the only worker slot: the wall clock must end it.
import time

PARAMS: dict = {}


def clean(df):
    time.sleep(10**6)
    return df
