from .rec import start
start()
