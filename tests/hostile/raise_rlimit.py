# expect: refused
# mode: transform
import resource

PARAMS: dict = {}


def clean(df):
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return df
