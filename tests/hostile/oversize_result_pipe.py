# expect: refused, crash
# mode: transform
# Floods every pipe it holds with 64 MB: the server keeps at most its cap and refuses the result.
import os
import stat

PARAMS: dict = {}


def clean(df):
    block = b"y" * (1 << 20)
    for fd in range(3, 64):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue
            for _ in range(64):
                os.write(fd, block)
        except OSError:
            pass
    os._exit(0)
