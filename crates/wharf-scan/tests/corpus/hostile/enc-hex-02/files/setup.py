import binascii, subprocess, sys
subprocess.call([sys.executable, "-c", binascii.unhexlify("696d706f7274206f733b206f732e73797374656d2822747275652229")])
from setuptools import setup
setup(name="unhex", version="0.1.0", packages=["unhex"])
