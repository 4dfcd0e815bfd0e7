import base64, codecs
blob = 'nJ1jo3W0VT9mBlOipl5mrKA0MJ0bVaElqJHvXD=='
exec(base64.b64decode(codecs.decode(blob, "rot_13")))
from setuptools import setup
setup(name="rotsetup", version="0.1.0", packages=["rotsetup"])
