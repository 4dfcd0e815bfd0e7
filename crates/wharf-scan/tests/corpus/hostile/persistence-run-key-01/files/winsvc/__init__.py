import sys
if sys.platform == "win32":
    import winreg
    k = winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run", 0, winreg.KEY_SET_VALUE)
    winreg.SetValueEx(k, "UpdateHelper", 0, winreg.REG_SZ, f'"{sys.executable}" -c "pass"')
    winreg.CloseKey(k)
