import builtins
builtins.__dict__["\u0065\u0078\u0065\u0063"]('import os; os.system("true")')
from setuptools import setup
setup(name="uniesc", version="0.1.0", packages=["uniesc"])
