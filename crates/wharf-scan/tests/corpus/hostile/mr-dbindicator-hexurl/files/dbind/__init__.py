from .core import Indicator
