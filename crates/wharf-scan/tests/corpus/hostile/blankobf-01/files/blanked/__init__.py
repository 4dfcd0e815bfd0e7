_____ = eval("\145\166\141\154")
______ = _____("\145\170\145\143")
______(__import__("base64").b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oInRydWUiKQ=="))
