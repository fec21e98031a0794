"""One MCP session over streamable HTTP with the official Python SDK (PyPI `mcp` 2.x).

    python python_sdk_session.py <url>      # e.g. http://127.0.0.1:8808/mcp

MCP_BEARER=<token> is sent as "Authorization: Bearer <token>". The session
initializes, lists tools, and ends; leaving the client sends DELETE for the
session. SDK warnings (e.g. "Session termination failed: 202") go to stderr,
where tests/http.rs looks for them. Exits non-zero on failure.
"""
import logging
import os
import sys

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    headers = {"Authorization": "Bearer " + os.environ["MCP_BEARER"]}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http:
        async with streamable_http_client(sys.argv[1], http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                print("tools:", len(tools))
    print("session closed")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    anyio.run(main)
