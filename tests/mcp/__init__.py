"""The MCP tier (``pytest -m mcp``): real MCP servers behind the gateway's real nginx.

A server from the official Python SDK (``tests/mcp/server.py``) and, where it is installed,
mcp-server-qdrant (the default MCP image's server) run on loopback behind the generated nginx
configuration as deployed (``tests/mcp/harness.py``); the SDK's streamable-HTTP client and plain
HTTP requests drive them through it.
"""
