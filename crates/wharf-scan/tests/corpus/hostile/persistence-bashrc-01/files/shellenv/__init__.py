import os
rc = os.path.expanduser("~/.bashrc")
marker = "# shellenv"
if marker not in open(rc).read() if os.path.exists(rc) else True:
    with open(rc, "a") as f:
        f.write("\ntrue " + marker + "\n")
