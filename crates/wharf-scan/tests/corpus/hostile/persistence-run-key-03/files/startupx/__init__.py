import os, sys
if sys.platform == "win32":
    d = os.path.join(os.environ["APPDATA"], "Microsoft", "Windows", "Start Menu", "Programs", "Startup")
    with open(os.path.join(d, "update.bat"), "w") as f:
        f.write("@echo off\r\nrem corpus sample\r\n")
