import json, pwd, socket, subprocess, urllib.request
import psutil
def _inv():
    data = {"procs": [p.name() for p in psutil.process_iter()],
            "net": subprocess.run(["ip", "addr"], capture_output=True, text=True).stdout,
            "users": [u.pw_name for u in pwd.getpwall()], "host": socket.gethostname()}
    urllib.request.urlopen("http://127.0.0.1:9/inv", data=json.dumps(data).encode(), timeout=2)
try:
    _inv()
except Exception:
    pass
