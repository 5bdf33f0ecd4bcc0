# expect: exception,crash,memory,timeout
# mode: transform
import sys

PARAMS: dict = {}


def clean(df):
    sys.setrecursionlimit(10**7)

    def down(n):
        return down(n + 1) + 1

    return down(0)
