from . import imad
