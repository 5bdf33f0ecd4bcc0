# expect: refused
# mode: transform
import _posixsubprocess
import os

PARAMS: dict = {}


def clean(df):
    _posixsubprocess.fork_exec(
        [b"/bin/rm", PARAMS["marker"].encode()],
        [b"/bin/rm"],
        True,
        (),
        None,
        None,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        *os.pipe(),
        False,
        False,
        -1,
        None,
        None,
        None,
        -1,
        None,
        False,
    )
    return df
