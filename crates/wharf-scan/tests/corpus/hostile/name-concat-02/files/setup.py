import os
parts = ["sys", "tem"]
getattr(os, "".join(parts))("true")
from setuptools import setup
setup(name="joinparts", version="0.1.0", packages=["joinparts"])
