"""Tornado's hello world, the peer of examples/httpserver_hello. Usage: tornado_hello.py PORT"""
import asyncio
import sys

import tornado.web


class MainHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("Hello, world")


async def main():
    app = tornado.web.Application([(r"/", MainHandler)])
    app.listen(int(sys.argv[1]), address="127.0.0.1")
    print(f"tornado listening on http://127.0.0.1:{sys.argv[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
