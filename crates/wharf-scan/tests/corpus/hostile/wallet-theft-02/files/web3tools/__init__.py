from .backup import backup
