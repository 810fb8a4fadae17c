"""moto's server, answering one request at a time.

DynamoDB applies a conditional write atomically: the condition and the
write are one step, so of two racing conditional updates of one item at
most one succeeds. moto's threaded server checks the condition and then
writes without a lock, so two requests in flight can both pass. The store
conformance suite races conditional writes on purpose, so the tests run
moto behind one lock: connections stay concurrent (HTTP/1.1 keep-alive,
one thread each), request handling is serial, as DynamoDB's per-item
semantics are.

Usage: python3 moto_serial.py HOST PORT (the tests pass it with -c)
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serial(environ, start_response):
        with one_at_a_time:
            # The whole body is produced under the lock: a lazy iterable
            # would otherwise run the backend after the lock is released.
            return [b"".join(app(environ, start_response))]

    run_simple(host, port, serial, threaded=True)


if __name__ == "__main__":
    main()
