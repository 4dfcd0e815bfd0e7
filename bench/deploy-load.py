#!/usr/bin/env python3
"""Deployment figures against a running Wharf (bench/deploy starts it).

1. Validation latency with a warm upstream cache: one client, sequential
   POST /api/v1/deployments/validate for a catalog server whose npm package
   the stand-in upstream (mcp-load.py) serves.
2. Seeds SECRETS encrypted credentials (4 per deployment) for the rotate-key
   run that bench/deploy times afterwards.
Usage: deploy-load.py BASE_URL TOKEN SAMPLES SECRETS
"""
import json
import statistics
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from importlib import import_module

load = import_module("mcp-load")


def main():
    base, token, samples, secrets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = load.Client(base, token)
    server = {
        "name": "com.bench/deploy", "description": "Deployment bench", "version": "1.0.0",
        "packages": [{
            "registryType": "npm", "identifier": "bench-deploy", "version": "1.0.0",
            "transport": {"type": "stdio"},
            "packageArguments": [{"type": "named", "name": "--port", "format": "number", "default": "8080"}],
            "environmentVariables": [
                {"name": "API_TOKEN", "isRequired": True, "isSecret": True},
                {"name": "API_URL", "isRequired": True},
                {"name": "RETRIES", "format": "number", "default": "3"},
                {"name": "LOG_LEVEL", "choices": ["debug", "info"], "default": "info"},
            ],
        }],
    }
    status, data, _ = client.request("POST", "/v0/publish", server)
    if status != 200:
        raise SystemExit(f"publish: HTTP {status}: {data[:300]!r}")
    request = {"server": "com.bench/deploy", "version": "latest",
               "credentials": {"API_TOKEN": "tok-" + "x" * 40, "API_URL": "https://api.bench.example"},
               "arguments": {"--port": "9000"}}
    client.request("POST", "/api/v1/deployments/validate", request)  # warms the cache
    times = []
    for _ in range(samples):
        status, data, ms = client.request("POST", "/api/v1/deployments/validate", request)
        if status != 200:
            raise SystemExit(f"validate: HTTP {status}: {data[:300]!r}")
        times.append(ms)
    print(f"RESULT validate-warm n={len(times)} p50_ms={statistics.median(times):.2f} "
          f"p99_ms={load.pct(times, 99):.2f}")
    created = []
    for i in range(secrets // 4):
        request["credentials"]["API_TOKEN"] = f"tok-{i:08d}-" + "y" * 32
        status, data, ms = client.request("POST", "/api/v1/deployments", request)
        if status != 201:
            raise SystemExit(f"create: HTTP {status}: {data[:300]!r}")
        created.append(ms)
    print(f"RESULT create n={len(created)} secrets={len(created) * 4} p50_ms={statistics.median(created):.2f}")


if __name__ == "__main__":
    main()
