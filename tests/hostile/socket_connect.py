# expect: refused
# mode: transform
import socket

PARAMS: dict = {}


def clean(df):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", PARAMS["port"]))
    s.sendall(df.to_csv().encode())
    return df
