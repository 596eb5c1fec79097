"""moto's S3 server in its own process, so that neither client under test shares a GIL with it.

python benchmarks/moto_server.py     prints the port on the first line, serves until stdin closes
"""

from __future__ import annotations

import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(port, flush=True)
    sys.stdin.read()  # the benchmark closes our stdin when it is done
    server.stop()


if __name__ == "__main__":
    main()
