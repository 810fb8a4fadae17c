"""moto's server, answering one request at a time.

DynamoDB applies a conditional write atomically: the condition and the
write are one step, so of two racing conditional updates of one item at
most one succeeds. moto's threaded server checks the condition and then
writes without a lock, so two requests in flight can both pass. The store
conformance suite races conditional writes on purpose, so the tests run
moto behind one lock: connections stay concurrent (HTTP/1.1 keep-alive,
one thread each), request handling is serial, as DynamoDB's per-item
semantics are.

It also counts the Route 53 ChangeResourceRecordSets calls it answers
(POST .../hostedzone/ID/rrset), and tells the count at GET
/_ddns_test/rrset-changes, so that tests can check how many calls a
change took.

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
    rrset_changes = [0]

    def serial(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_ddns_test/rrset-changes":
            body = str(rrset_changes[0]).encode()
            start_response(
                "200 OK",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if environ.get("REQUEST_METHOD") == "POST" and path.rstrip("/").endswith("/rrset"):
            rrset_changes[0] += 1
        with one_at_a_time:
            # The whole body is produced under the lock: a lazy iterable
            # would otherwise run the backend after the lock is released.
            return [b"".join(app(environ, start_response))]

    run_simple(host, port, serial, threaded=True)


if __name__ == "__main__":
    main()
