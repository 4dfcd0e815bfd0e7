import codecs
dec = codecs.getdecoder("hex_codec")
exec(dec('696d706f7274206f733b206f732e73797374656d2822747275652229'.encode())[0])
from setuptools import setup
setup(name="hexcodec", version="0.1.0", packages=["hexcodec"])
