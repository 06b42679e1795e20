"""`hybridstore` command line: ingest, search, why-not, delete, eval, reembed, copy, snapshot, restore, info,
mcp, inspect, bench.

Only argparse is imported up front, so that ``--help`` is instant; each command imports what
it needs. Every error a user can cause ends in one line on stderr and exit status 2 (``--debug``
shows the traceback), its fixes named as flags (`words`); Ctrl-C ends in one line and status
130; output closed early (``| head``) ends quietly with 141.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

Command = Callable[[argparse.Namespace], int]

EVAL_MODES = ("dense", "sparse", "hybrid", "hybrid+rerank")
EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE = 2, 130, 141


class UsageError(Exception):
    """A command line that cannot run (a missing path, clashing options): exit 2."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with the one line to say about it (what is stored, how to go on)."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ..errors import HybridStoreError
    from .report import warnings_summed
    from .words import for_cli

    try:
        with warnings_summed(args.cut_hint):
            code: int = args.run(args)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
    except BrokenPipeError:  # `| head` has read enough: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except KeyboardInterrupt as e:
        if args.debug:
            raise
        print(str(e) if isinstance(e, Interrupted) else "\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UsageError, HybridStoreError, OSError, ValueError) as e:
        if args.debug:
            raise
        print(f"error: {for_cli(str(e))}", file=sys.stderr)
        return EXIT_USAGE


def _run(module: str, name: str) -> Command:
    """A command, imported when it runs."""
    def run(args: argparse.Namespace) -> int:
        from importlib import import_module

        command: Command = getattr(import_module(f"{__name__}.{module}"), name)
        return command(args)
    return run


class _Given(argparse.Action):
    """Stores the value and that it was given (eval picks its own collection otherwise)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.collection_given = True


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str:
        """"(default: X)" after options with a value; the others say theirs in words."""
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS):
            return text
        return super()._get_help_string(action) or text


def _json(text: str) -> object:
    """A --filter or --boost: JSON, or an error that says where it stops being JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e.msg} at column {e.colno}): {text}") from None


def _search_options(s: argparse.ArgumentParser, k_help: str) -> None:
    """The options of a search, shared by search and why-not."""
    s.add_argument("-k", type=int, default=5, help=k_help)
    s.add_argument("--mode", choices=("dense", "sparse", "hybrid", "image", "pages", "multimodal"), default=None,
                   help="default: the strongest the models allow (hybrid; multimodal with --image or --pages)")
    s.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None,
                   help="late-interaction rerank; default: on with --late")
    s.add_argument("--fusion", choices=("rrf", "dbsf"), default=None, help="hybrid fusion; default: dbsf")
    s.add_argument("--filter", type=_json, default=None,
                   help='JSON filter on metadata, e.g. \'{"year": {"$gte": 2020}}\' (default: none)')
    s.add_argument("--boost", type=_json, default=None,
                   help='JSON boost, as search(boost=) (docs/ranking.md), e.g. \'{"recency": {"key": '
                        '"published", "half_life": "30d"}, "match": [[{"source": "official"}, 1.3]]}\' '
                        '(default: none)')


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hybridstore", description=__doc__.split("\n\n")[0],
                                formatter_class=_Help)
    p.add_argument("--collection", default="hybridstore", action=_Given,
                   help="collection name (eval: default its own, eval-<dataset>-<hash>)")
    p.set_defaults(collection_given=False)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--path", default="hybridstore-data", help="on-disk index folder")
    where.add_argument("--location", default=None, help="':memory:' for a throw-away index (default: --path)")
    where.add_argument("--url", default=None, help="a Qdrant server, e.g. http://localhost:6333 (default: --path)")
    p.add_argument("--api-key", default=None, help="the server's API key (default: none)")
    p.add_argument("--engine", choices=("edge", "local"), default=None,
                   help="embedded engine: Qdrant Edge, or qdrant-client's local mode (only for "
                        "folders it wrote); default: edge, or $HYBRIDSTORE_ENGINE")
    p.add_argument("--pack", default=None,
                   help="offline model pack folder (with models.json); default: $HYBRIDSTORE_MODELS")
    p.add_argument("--dense", default=None, help="dense model name, or 'none'; default: the pack's (without one, BAAI/bge-small-en-v1.5)")
    p.add_argument("--sparse", default=None, help="sparse model name, or 'none'; default: the pack's (without one, Qdrant/bm25)")
    p.add_argument("--late", default=None, help="late-interaction (ColBERT) model name; default: none")
    p.add_argument("--image", default=None,
                   help="image model (CLIP-style) name, e.g. Qdrant/clip-ViT-B-32-vision: ingest indexes "
                        "image files, search fuses their vectors; default: none")
    p.add_argument("--image-path", default=None, help="local folder of the --image model (offline; default: by name)")
    p.add_argument("--image-text-path", default=None,
                   help="local folder of its text tower (offline; default: the known pair's, by name)")
    p.add_argument("--pages", default=None, metavar="MODEL",
                   help="page model (ColPali-style) name, e.g. Qdrant/colpali-v1.3-fp16: ingest stores each PDF "
                        "page's image with its first chunk, search fuses the pages' MaxSim; default: none")
    p.add_argument("--pages-path", default=None, help="local folder of the --pages model (offline; default: by name)")
    p.add_argument("--batch-size", type=int, default=None, help="texts per model batch; default: 32")
    p.add_argument("--threads", type=int, default=None, help="onnxruntime threads; default: all cores")
    p.add_argument("--int8", action="store_true",
                   help="run int8 copies of the dense and late-interaction models (made once, cached; "
                        "needs the onnx package); the collection records it")
    p.add_argument("--storage", choices=("default", "large"), default=None,
                   help="storage of a new collection: 'large' keeps int8 dense vectors in memory and "
                        "the rest on disk (docs/scaling.md); an existing collection made otherwise is refused")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks")
    p.set_defaults(cut_hint="")  # what a note on texts cut at a model's window advises
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    s = sub.add_parser("ingest", formatter_class=_Help,
                       help="index files: .txt/.md/.rst, .pdf, .html, .jsonl, folders, BEIR folders (images with --image)",
                       description="Index files. Re-running converges: unchanged records are not "
                       "embedded again, a changed file's old chunks are replaced, and --sync removes "
                       "the records of files gone from the folders. Exit 1 if any input was skipped.")
    s.add_argument("paths", nargs="+", help="files and folders")
    s.add_argument("--chunk-size", type=int, default=1200, help="characters per chunk of a text file")
    s.add_argument("--chunk-overlap", type=int, default=150, help="characters shared by neighbouring chunks")
    s.add_argument("--encoding", default="utf-8",
                   help="encoding of text and JSONL files that are not UTF-8 (files with a byte-order "
                        "mark, and valid UTF-8 files, are read as such whatever this says)")
    s.add_argument("--sync", action="store_true",
                   help="also remove the records of files gone from the given folders, of files read "
                        "through symlinks there that are gone, and of a moved folder's old files "
                        "(docs/cli.md)")
    s.add_argument("--strict", action="store_true",
                   help="read everything first and write nothing if any input would be skipped (exit 2)")
    s.add_argument("--replace", action="store_true",
                   help="overwrite stored records that carry the same id but came from another file "
                        "(default: refuse and report them)")
    s.add_argument("--report", default=None, metavar="FILE",
                   help="write every skipped input to FILE, one per line (the screen lists the first 20)")
    s.add_argument("--limit", type=int, default=None,
                   help="index at most N records; stale chunks are then left alone (default: all)")
    s.add_argument("--pages-dpi", type=int, default=100,
                   help="resolution PDF pages are rendered at for --pages (the model resizes them)")
    s.set_defaults(run=_run("ingest", "cmd_ingest"),
                   cut_hint="Use a smaller --chunk-size for text files; split long JSONL rows.")

    s = sub.add_parser("search", formatter_class=_Help, help="print ranked hits for a query")
    s.add_argument("query")
    _search_options(s, "hits to print")
    s.add_argument("--by-image", default=None, metavar="FILE",
                   help="search the image vectors with this image instead of the query's text "
                        "(needs --image; give an empty query: '')")
    s.add_argument("--mmr", type=float, default=None, metavar="LAMBDA",
                   help="pick hits by maximal marginal relevance, as search(mmr=): 1.0 pure relevance, "
                        "0.0 most diverse (default: ranked by relevance)")
    s.add_argument("--group-by", default=None, metavar="KEY",
                   help="at most --group-size hits per value of this metadata key (or doc_id), as "
                        "search(group_by=); -k counts groups (default: not grouped)")
    s.add_argument("--group-size", type=int, default=1, help="hits per group with --group-by")
    s.add_argument("--explain", action="store_true",
                   help="also print why each hit ranked: per branch its rank and score, the fused score, "
                        "the rerank's and MMR's changes, the group, the top matched terms (--json: the "
                        "whole explanation)")
    s.add_argument("--json", action="store_true", help="print JSON lines")
    s.set_defaults(run=_run("commands", "cmd_search"), cut_hint="Shorten the query.")

    s = sub.add_parser("why-not", formatter_class=_Help,
                       help="where one record stands for a query, stage by stage, and why it is not in the top k")
    s.add_argument("id", help="the record's id")
    s.add_argument("query")
    _search_options(s, "the top k it is checked against")
    s.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    s.set_defaults(run=_run("explained", "cmd_why_not"), cut_hint="Shorten the query.")

    s = sub.add_parser("delete", formatter_class=_Help,
                       help="delete records by id, document, file, folder or filter (all given: each is removed)")
    s.add_argument("--id", action="append", default=[], dest="ids", help="a record id (repeatable)")
    s.add_argument("--doc", action="append", default=[], dest="docs", help="a document id (repeatable)")
    s.add_argument("--file", action="append", default=[], dest="files",
                   help="everything ingested from this file (repeatable)")
    s.add_argument("--folder", action="append", default=[], dest="folders",
                   help="everything ingested from files under this folder, or through symlinks in it; "
                        "the folder may be gone (repeatable)")
    s.add_argument("--filter", type=_json, default=None, help="a JSON filter on metadata (default: none)")
    s.set_defaults(run=_run("commands", "cmd_delete"))

    s = sub.add_parser("eval", formatter_class=_Help,
                       help="nDCG@10 and Recall@100 per mode on a BEIR folder")
    s.add_argument("beir_dir", help="folder with corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    s.add_argument("--split", default="test", help="qrels split")
    s.add_argument("--modes", default=None,
                   help=f"comma-separated, of {', '.join(EVAL_MODES)}; default: every mode the models serve")
    s.add_argument("--max-queries", type=int, default=None, help="evaluate the first N judged queries (default: all)")
    s.add_argument("--max-docs", type=int, default=None,
                   help="index the judged documents of those queries and the first N others "
                        "(default: the whole corpus)")
    s.add_argument("--rerank-depth", type=int, default=100, help="candidates the late-interaction model reranks")
    s.add_argument("--json-out", default=None,
                   help="write the results as JSON here, each mode's per-query figures too (default: print only)")
    s.add_argument("--report", default=None, metavar="FILE.html",
                   help="also write the figures as one self-contained HTML page: bars per mode, per-query "
                        "nDCG@10, and the queries where hybrid lost to a branch, explained (default: none)")
    s.add_argument("--from-json", default=None, metavar="FILE",
                   help="make the --report from this earlier --json-out instead of evaluating (no "
                        "explanations: they need the index); default: evaluate")
    s.set_defaults(run=_run("evaluate", "cmd_eval"),
                   cut_hint="The scores are those of the documents' beginnings (as for any index of them).")

    s = sub.add_parser("reembed", formatter_class=_Help,
                       help="embed stored texts into the vectors of newly added models (e.g. --late MODEL), "
                            "in place and resumably")
    s.add_argument("--batch", type=int, default=256, help="points per batch")
    s.set_defaults(run=_run("commands", "cmd_reembed"))

    s = sub.add_parser("copy", formatter_class=_Help,
                       help="copy the collection to another folder, engine or Qdrant server, vectors and "
                            "all (nothing embedded); resumable, verified",
                       description="Copy the collection with its vectors, payloads and model signature. "
                       "--storage (before the command) applies to the new collection. Run it again "
                       "after an interruption: pages already copied are skipped.")
    to = s.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-path", default=None, help="an on-disk index folder (embedded)")
    to.add_argument("--to-url", default=None, help="a Qdrant server or cluster, e.g. http://host:6333")
    s.add_argument("--to-collection", default=None, help="the new collection's name (default: the same)")
    s.add_argument("--to-engine", choices=("edge", "local"), default=None, help="embedded engine of --to-path (default: edge)")
    s.add_argument("--to-api-key", default=None, help="the target server's API key (default: none)")
    s.add_argument("--shards", type=int, default=None, help="shard_number of a new server collection (default: the server's)")
    s.add_argument("--replicas", type=int, default=None, help="replication_factor of a new server collection (default: the server's)")
    s.add_argument("--batch", type=int, default=256, help="points per page")
    s.add_argument("--verify", type=int, default=32, help="points compared on both sides at the end (0: counts only)")
    s.add_argument("--no-resume", action="store_true", help="rewrite pages the target has already (the source changed)")
    s.set_defaults(run=_run("commands", "cmd_copy"))

    s = sub.add_parser("snapshot", formatter_class=_Help,
                       help="write the collection (points, vectors, model signature, storage) to one file",
                       description="Write the whole collection to FILE, restorable on any engine with "
                       "hybridstore restore. Taken while writes continue, every record in it is whole. "
                       "The file is replaced only once complete. It embeds nothing: no model (nor "
                       "model pack) is needed.")
    s.add_argument("file", help="the snapshot file to write")
    s.add_argument("--batch", type=int, default=256, help="points per page")
    s.set_defaults(run=_run("commands", "cmd_snapshot"))

    s = sub.add_parser("restore", formatter_class=_Help,
                       help="restore a snapshot file as the collection (checked whole first)",
                       description="Restore FILE as the collection at --path / --url / --location "
                       "(--collection). The file is checked whole (format, checksum, signature) before "
                       "anything changes; a collection holding points is refused unless --replace.")
    s.add_argument("file", help="a file written by hybridstore snapshot")
    s.add_argument("--replace", action="store_true",
                   help="drop the collection first when it holds points (default: refuse)")
    s.add_argument("--batch", type=int, default=256, help="points per write")
    s.set_defaults(run=_run("commands", "cmd_restore"))

    s = sub.add_parser("info", formatter_class=_Help,
                       help="collection, vectors, stored and configured models, counts")
    s.set_defaults(run=_run("commands", "cmd_info"))

    s = sub.add_parser("mcp", formatter_class=_Help,
                       help="serve the index over the Model Context Protocol (stdio) for agents")
    s.add_argument("--allow-writes", action="store_true",
                   help="also offer the tools add_texts and delete (default: read-only)")
    for flag, text in (("--path", "on-disk index folder (as before the command)"),
                       ("--collection", "collection name (as before the command)")):
        s.add_argument(flag, default=argparse.SUPPRESS, help=text)  # after the command, too
    s.set_defaults(run=_run("mcp", "cmd_mcp"))

    s = sub.add_parser("inspect", formatter_class=_Help,
                       help="a local read-only web page over the index: the collection, explained "
                            "searches, two configurations compared, why-not, eval charts",
                       description="Serve a read-only page on 127.0.0.1 (printed with its port) until "
                       "Ctrl-C. Needs pip install 'hybridstore[inspect]' (docs/explain.md).")
    s.add_argument("--port", type=int, default=0, help="the port to listen on (default: 0, any free one)")
    s.add_argument("--host", default="127.0.0.1",
                   help="127.0.0.1 or localhost only: any other address is refused")
    for flag, text in (("--path", "on-disk index folder (as before the command)"),
                       ("--url", "a Qdrant server (as before the command)"),
                       ("--collection", "collection name (as before the command)")):
        s.add_argument(flag, default=argparse.SUPPRESS, help=text)  # after the command, too
    s.set_defaults(run=_run("inspecting", "cmd_inspect"))

    s = sub.add_parser("bench", formatter_class=_Help,
                       help="ingest docs/s: padding-aware vs naive batches, each twice, alternating; the best of each")
    s.add_argument("beir_dir")
    s.add_argument("--limit", type=int, default=1000, help="documents")
    s.add_argument("--json-out", default=None, help="write the results as JSON here (default: print only)")
    s.set_defaults(run=_run("commands", "cmd_bench"))
    return p


if __name__ == "__main__":
    sys.exit(main())
