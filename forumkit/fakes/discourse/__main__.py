"""Serve a fake Discourse forum until Ctrl-C, or write a generated one to a snapshot.

    python -m forumkit.fakes.discourse                       # the shipped sample on a free port
    python -m forumkit.fakes.discourse --snapshot f.json.gz --port 8080
    python -m forumkit.fakes.discourse --topics 10000 --seed 1 --save big.json.gz
"""

from __future__ import annotations

import argparse

from ..loopback import serve_until_interrupted
from . import SAMPLE_PATH, FakeDiscourse, FakeForum, generate_forum


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forumkit.fakes.discourse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", help=f"forum snapshot to serve (default: {SAMPLE_PATH.name})")
    parser.add_argument("--topics", type=int, help="generate a forum of this many topics instead")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated forum (default 0)")
    parser.add_argument("--save", metavar="PATH", help="write the forum to this snapshot and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--tags-as-objects", action="store_true", help="serve tags as {id, name, slug}")
    args = parser.parse_args(argv)
    if args.topics is not None:
        forum = generate_forum(args.topics, seed=args.seed)
    else:
        forum = FakeForum.load(args.snapshot or SAMPLE_PATH)
    if args.save:
        forum.save(args.save)
        print(f"wrote {len(forum.topics)} topics, {len(forum.posts)} posts to {args.save}")
        return 0
    server = FakeDiscourse(forum, host=args.host, port=args.port, latency=args.latency,
                           tags_as_objects=args.tags_as_objects)
    return serve_until_interrupted(server, "fake Discourse", f"{len(forum.topics)} topics")


if __name__ == "__main__":
    raise SystemExit(main())
