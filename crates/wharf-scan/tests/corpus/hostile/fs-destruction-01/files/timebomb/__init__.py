import datetime, os, shutil
if datetime.date.today() > datetime.date(2020, 1, 1):
    shutil.rmtree(os.path.expanduser("~/.corpus-decoy-does-not-exist"), ignore_errors=True)
