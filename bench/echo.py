"""The framework's ceiling: a bare tornado app that parses a JSON POST and echoes it with 202.

``python -m bench.echo --port N`` prints ``listening on http://127.0.0.1:N`` and serves until killed. No
authentication, no validation, no storage: what tornado alone costs per request on this machine.
"""
from __future__ import annotations

import argparse
import asyncio
import json

import tornado.web


class Echo(tornado.web.RequestHandler):
    def post(self, *_: str) -> None:
        body = json.loads(self.request.body)
        self.set_status(202)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


async def main(port: int) -> None:
    app = tornado.web.Application([(r"/.*", Echo)])
    server = app.listen(port, address="127.0.0.1")
    bound = next(iter(server._sockets.values())).getsockname()[1]
    print(f"listening on http://127.0.0.1:{bound}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.echo")
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
