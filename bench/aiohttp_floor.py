"""The floor of clusterd's REST requests: a bare aiohttp server, nothing behind it.

    .venv/bin/python bench/aiohttp_floor.py PORT

One catch-all route, no middleware, no access log, no authentication, no daemon link: a GET
answers a small JSON object, a PUT reads its JSON body and answers the same. bench/peer.py
(`--floor`) drives it with the same wrk script as clusterd and etcd, so its CPU per request
is what aiohttp alone costs a request on this machine: the least a clusterd request can cost
before the work that makes it clusterd's.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web


async def answer(request: web.Request) -> web.Response:
    value = json.loads(await request.read()) if request.method == "PUT" else "0"
    return web.json_response({"key": request.match_info["path"], "value": value})


def main() -> None:
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
