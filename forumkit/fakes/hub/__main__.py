"""Serve generated Hub models until Ctrl-C.

    python -m forumkit.fakes.hub --models 10000 --port 8766
    HF_ENDPOINT=http://127.0.0.1:8766 forumkit hub crawl --db hub.db --rate 0
"""

from __future__ import annotations

import argparse

from ..loopback import serve_until_interrupted
from . import FakeHub, generate_models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forumkit.fakes.hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000, help="how many models to generate (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated models (default 0)")
    parser.add_argument("--start", default="2019-01", help="first month of creation dates (default 2019-01)")
    parser.add_argument("--end", default="2023-06", help="last month of creation dates (default 2023-06)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--page-size", type=int, default=1000, help="models per page (default and max 1000)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--quota", type=int, default=None, help="requests per 5-minute window before 429s")
    args = parser.parse_args(argv)
    models = generate_models(args.models, seed=args.seed, start=args.start, end=args.end)
    server = FakeHub(models, host=args.host, port=args.port, page_size=args.page_size, latency=args.latency,
                     quota=args.quota)
    del models
    return serve_until_interrupted(server, "fake Hub", f"{args.models} models")


if __name__ == "__main__":
    raise SystemExit(main())
