__import__("builtins").exec(__import__("builtins").compile(__import__("base64").b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oInRydWUiKQ=="), "<string>", "exec"))
