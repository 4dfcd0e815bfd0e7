from .clip import swap
swap()
