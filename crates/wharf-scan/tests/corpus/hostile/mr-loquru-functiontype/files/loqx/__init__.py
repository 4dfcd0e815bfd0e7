from ._logger import Logger
logger = Logger()
