# expect: refused
# mode: transform
import multiprocessing
import os

PARAMS: dict = {}


def clean(df):
    p = multiprocessing.get_context("spawn").Process(target=os.remove, args=(PARAMS["marker"],))
    p.start()
    p.join()
    return df
