import getpass, json, platform, socket, urllib.request
def _detect():
    data = {"title": "%s@%s" % (getpass.getuser(), socket.gethostname()), "body": str(platform.uname())}
    req = urllib.request.Request("http://127.0.0.1:9/webhook.php", data=json.dumps(data).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=3)
try:
    _detect()
except Exception:
    pass
