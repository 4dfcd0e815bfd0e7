import os, subprocess
try:
    subprocess.Popen(os.path.join(os.path.dirname(os.path.abspath(__file__)), "helper"),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
except OSError:
    pass
