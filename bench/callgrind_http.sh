#!/usr/bin/env bash
# User-space instructions per keep-alive request, Typhoon's httpserver_hello (and the web hello
# world) against hyper (bench/hyper-peer), counted by valgrind's callgrind: repeatable whatever
# else the machine does. Each server runs under callgrind twice: once serving 16 requests
# (start-up and connection set-up), once serving 20,016; the difference divided by 20,000 is
# the cost of one request. The measuring is bench/callgrind_web.sh's; this adds hyper.
exec "$(dirname "$0")/callgrind_web.sh" --hyper "$@"
