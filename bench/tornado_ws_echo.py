"""Tornado 6.6's WebSocket echo server, the Tornado peer of bench/websocket.sh:
`python3 bench/tornado_ws_echo.py PORT [deflate]` (with `deflate`, permessage-deflate with
Tornado's defaults, as `get_compression_options() -> {}`)."""

import asyncio
import sys

import tornado.web
import tornado.websocket


DEFLATE = len(sys.argv) > 2 and sys.argv[2] == "deflate"


class Echo(tornado.websocket.WebSocketHandler):
    def get_compression_options(self):
        return {} if DEFLATE else None

    async def on_message(self, message):
        try:
            await self.write_message(message, binary=isinstance(message, bytes))
        except tornado.websocket.WebSocketClosedError:
            pass


async def main(port):
    app = tornado.web.Application([(r"/.*", Echo)], websocket_max_message_size=2**25)
    app.listen(port, address="127.0.0.1")
    print(f"tornado_ws_echo listening on 127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


asyncio.run(main(int(sys.argv[1])))
