"""MCP servers for the MCP client's tests (tests/it/mcp.rs), on the `mcp` Python SDK.

    python servers.py http      streamable HTTP on 127.0.0.1, a free port, printed as
                                "PORT <n>" on stdout; requires "Authorization: Bearer
                                $MCP_TEST_TOKEN"; lists its tools two to a page
    python servers.py stdio     the same tools over stdio (no token)
    python servers.py crash     writes why to stderr and exits 3 before answering
    python servers.py hang      reads its input and never answers
    python servers.py garbage   answers every line with text that is not JSON-RPC

With MCP_PID_FILE set, the server writes its process id there.

Tools: add(a, b); fail() (an error result); die() (the process exits mid-call);
slow() (sleeps 60 s); picture() (an image and an embedded resource); leak() (the
value of MCP_SECRET); unlock() (adds
the tool `secret` and sends notifications/tools/list_changed).
"""

import asyncio
import os
import socket
import sys

MODE = sys.argv[1] if len(sys.argv) > 1 else "stdio"

if MODE == "crash":
    sys.stderr.write("crash server: cannot open its database (scripted)\n")
    sys.exit(3)

if MODE == "hang":
    for _ in sys.stdin:
        pass
    sys.exit(0)

if MODE == "garbage":
    for _ in sys.stdin:
        sys.stdout.write("this is not JSON-RPC {{{ \x00\x01\n")
        sys.stdout.flush()
    sys.exit(0)

import mcp_types as types  # noqa: E402
from mcp.server.mcpserver import Context, Image, MCPServer  # noqa: E402
from mcp.server.mcpserver.exceptions import ToolError  # noqa: E402

if os.environ.get("MCP_PID_FILE"):
    with open(os.environ["MCP_PID_FILE"], "w") as f:
        f.write(str(os.getpid()))


class PagedServer(MCPServer):
    """Lists its tools two to a page, with a cursor."""

    async def _handle_list_tools(self, ctx, params):
        tools = await self.list_tools()
        start = int(params.cursor) if params is not None and params.cursor else 0
        page = tools[start : start + 2]
        more = str(start + 2) if start + 2 < len(tools) else None
        return types.ListToolsResult(tools=page, next_cursor=more)


server = PagedServer("theory-llm-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


@server.tool()
def fail() -> str:
    """Always fails."""
    raise ToolError("the tool failed on purpose")


@server.tool()
def die() -> str:
    """Exits the server in the middle of the call."""
    os._exit(1)


@server.tool()
async def slow() -> str:
    """Takes a minute."""
    await asyncio.sleep(60)
    return "done"


@server.tool()
def picture() -> list:
    """An image and a text resource."""
    return [
        Image(data=b"\x89PNG\r\n\x1a\n0000", format="png"),
        types.EmbeddedResource(
            type="resource",
            resource=types.TextResourceContents(uri="file:///notes.txt", mime_type="text/plain", text="hello notes"),
        ),
    ]


@server.tool()
def leak() -> str:
    """Tells its environment's secret (MCP_SECRET)."""
    return "the key is " + os.environ.get("MCP_SECRET", "")


@server.tool()
async def unlock(ctx: Context) -> str:
    """Adds the tool `secret`."""

    def secret() -> str:
        """The secret tool."""
        return "42"

    server.add_tool(secret, name="secret")
    await ctx.request_context.session.send_tool_list_changed()
    return "unlocked"


if MODE == "stdio":
    server.run("stdio")
elif MODE == "http":
    import uvicorn
    from starlette.responses import JSONResponse

    token = os.environ.get("MCP_TEST_TOKEN", "")
    inner = server.streamable_http_app()

    async def app(scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization", b"").decode() != f"Bearer {token}":
                await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
                return
        await inner(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # before the port is printed: a client may connect at once
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
else:
    sys.exit(f"unknown mode {MODE}")
