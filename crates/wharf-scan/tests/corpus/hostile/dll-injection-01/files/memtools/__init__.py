from .inject import inject
