import os
unit = os.path.expanduser("~/.config/systemd/user/updater.service")
desk = os.path.expanduser("~/.config/autostart/updater.desktop")
for path, text in ((unit, "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n"),
                   (desk, "[Desktop Entry]\nType=Application\nExec=true\n")):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
