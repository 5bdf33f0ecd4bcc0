# expect: timeout
# mode: transform
PARAMS: dict = {}


def clean(df):
    while True:
        pass
