import builtins
name = ("ex"
        "ec")
getattr(builtins, name)('import os; os.system("true")')
from setuptools import setup
setup(name="implicitcat", version="0.1.0", packages=["implicitcat"])
