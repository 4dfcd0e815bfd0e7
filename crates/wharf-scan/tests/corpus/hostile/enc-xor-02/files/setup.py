import os
def _u(x):
    return "".join(chr(ord(c) ^ 0x5A) for c in x)
os.system(_u('.(/?'))
from setuptools import setup
setup(name="xorsetup", version="0.1.0", packages=["xorsetup"])
