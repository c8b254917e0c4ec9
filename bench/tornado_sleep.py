"""The Tornado performance articles' Tornado app: A /sync-sleep (time.sleep on the loop), B /async-sleep
(asyncio.sleep), C /now, D /executor-sleep (time.sleep in run_in_executor).
Usage: tornado_sleep.py PORT [SECONDS]"""
import asyncio
import datetime
import sys
import time

import tornado.ioloop
import tornado.web

SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0


class SyncSleep(tornado.web.RequestHandler):
    def get(self):
        time.sleep(SECONDS)
        self.write("slept (sync)\n")


class AsyncSleep(tornado.web.RequestHandler):
    async def get(self):
        await asyncio.sleep(SECONDS)
        self.write("slept (async)\n")


class ExecutorSleep(tornado.web.RequestHandler):
    async def get(self):
        await tornado.ioloop.IOLoop.current().run_in_executor(None, time.sleep, SECONDS)
        self.write("slept (executor)\n")


class Now(tornado.web.RequestHandler):
    def get(self):
        self.write(datetime.datetime.now().isoformat() + "\n")


async def main():
    app = tornado.web.Application([
        (r"/sync-sleep", SyncSleep),
        (r"/async-sleep", AsyncSleep),
        (r"/executor-sleep", ExecutorSleep),
        (r"/now", Now),
        (r"/", Now),
    ])
    app.listen(int(sys.argv[1]), address="127.0.0.1")
    print(f"tornado sleep app on http://127.0.0.1:{sys.argv[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
