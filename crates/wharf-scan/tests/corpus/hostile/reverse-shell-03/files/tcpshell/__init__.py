import os
os.system("bash -c 'true >& /dev/tcp/127.0.0.1/9 0>&1' 2>/dev/null &")
