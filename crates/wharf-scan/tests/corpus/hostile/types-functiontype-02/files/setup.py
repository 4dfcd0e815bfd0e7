import types
def _noop():
    pass
payload = compile('import os; os.system("true")', "s", "exec")
types.FunctionType(payload, {"__builtins__": __builtins__})()
from setuptools import setup
setup(name="codetypes", version="0.1.0", packages=["codetypes"])
