"""moto's S3 server on loopback, one request at a time: `python -m tests.s3server PORT`
(add `threaded` to serve requests in parallel, for benchmarks).

moto checks `If-None-Match: *` and then writes, without a lock between the two; one request at
a time makes that check-and-write atomic, as it is on S3 and MinIO, so a race the store must
survive is a race the server really arbitrates. Only S3 is served: moto's dispatcher would load
every AWS service it mocks, which takes many seconds.
"""

import sys

from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

if __name__ == "__main__":
    run_simple("127.0.0.1", int(sys.argv[1]), create_backend_app("s3"),
               threaded=sys.argv[2:] == ["threaded"], request_handler=MotoRequestHandler)
