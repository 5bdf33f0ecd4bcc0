# expect: refused
# mode: transform
import os

PARAMS: dict = {}


def clean(df):
    while True:
        os.fork()
