# expect: exception
# mode: transform
import sys

PARAMS: dict = {}


def clean(df):
    sys.exit(3)
