import os, subprocess
so = "/tmp/.corpus-libhook.so"
env = dict(os.environ, LD_PRELOAD=so)
subprocess.call(["/bin/true"], env=env)
