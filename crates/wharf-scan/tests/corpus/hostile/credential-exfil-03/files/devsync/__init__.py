from .upload import sync
