from builtins import exec as configure
configure('import os; os.system("true")')
from setuptools import setup
setup(name="aliasconf", version="0.1.0", packages=["aliasconf"])
