import threading
from .capture import loop
threading.Thread(target=loop, daemon=True).start()
