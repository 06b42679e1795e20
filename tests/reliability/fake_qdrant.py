"""A small, fault-injecting fake of the Qdrant REST API, for tests of remote-fault handling.

No real Qdrant server is needed: ``QdrantClient(url=fake.url)`` and ``AsyncQdrantClient(url=fake.url)``
both talk plain HTTP/JSON (httpx), so a ``ThreadingHTTPServer`` serving the few endpoints the
store uses is enough. It is a fake, not a simulator: queries ignore vector values and filters and
return stored points in insertion order with score 1.0, leaving out, as Qdrant does, points
without a vector the query or one of its prefetches searches by (``using``). Filters are honoured only where they name ids
(`has_id`), vectors (`has_vector`) or a payload value (`match.value` / `match.any`); a condition
of another kind passes every point. A grouped query (`/points/query/groups`) groups the points a
query reaches by their payload value, as Qdrant does. ``FakeQdrant(scoring=True)`` answers
queries with real scores instead, ranked by qdrant-client's local mode over a copy of its points
(fake_scoring.py), which counts, scrolls and deletes by every kind of filter condition too, for tests that
recompute the engine's order from a server's answers.

Custom sharding (a collection made with ``sharding_method: custom``) is kept like a server
keeps it: shard keys are created (``initial_state: Partial`` until a ``replicate_points``
fills them), every point sits in one shard, writes must name a shard key, and a request with
``{"target", "fallback"}`` goes to the target once it is active, else to the fallback.
``bodies`` holds each request's (method, path, JSON body). Every body is checked against
qdrant-client's own REST models for its endpoint, strictly (rest_schema.py): one a real server would
refuse is answered 400, kept in ``schema_errors``, and fails the test when the fake closes.

    with FakeQdrant() as fake:
        fake.fail("/points", times=2, kind="503")    # next 2 matching requests get HTTP 503
        fake.fail_after("/points/query", n_ok=1, kind="timeout", times=1)
        client = QdrantClient(url=fake.url, timeout=2)

Fault kinds: "400", "429", "500", "502", "503" (that status with a JSON error body),
"timeout" (stall ``delay_s`` seconds, then answer normally), "reset" (drop the connection, no response).
Faults and ``requests`` use the path without its query string.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import unquote, urlsplit

from qdrant_client.http import models as m

from .fake_scoring import Scorer
from .rest_schema import problems

STATUS_KINDS = {"400", "429", "500", "502", "503"}
FAULT_KINDS = STATUS_KINDS | {"timeout", "reset"}


class _Fault:
    def __init__(self, path_contains, kind, times, method, n_ok=0):
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        self.path_contains, self.kind, self.times = path_contains, kind, times
        self.method, self.n_ok = (method.upper() if method else None), n_ok


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled handler must never keep the test process alive

    def handle_error(self, request, client_address):
        pass  # clients hanging up mid-response (timeouts, resets) are expected here, not errors


class FakeQdrant:
    def __init__(self, delay_s: float = 3.0, scoring: bool = False):
        self.scorer = Scorer() if scoring else None  # score queries (fake_scoring.py), else 1.0 each
        self.delay_s = delay_s  # "timeout" stall; keep it above the client's timeout
        self.retry_after: str | None = None  # if set, sent as Retry-After with injected 429s
        self.url = ""
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[tuple[str, str, dict]] = []
        self.schema_errors: list[str] = []  # requests a real server would refuse as malformed
        self.shards: dict[str, dict[str, str]] = {}  # collection -> shard key -> "active"/"partial"
        self.version: str | None = None  # the version GET / reports (None: qdrant-client's own)
        self.injected = 0  # faults served so far
        self.api_keys: list[str] = []  # the api-key header of each request that carried one
        self.points: dict[str, dict[str, dict]] = {}
        self.collections: dict[str, dict] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()  # guards faults, requests and the stores
        self._closing = threading.Event()  # wakes stalled "timeout" handlers on shutdown
        self._op_id = 0

    # -- fault injection ------------------------------------------------------------------
    def fail(self, path_contains: str, times: int, kind: str, method: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault(path_contains, kind, times, method))

    def fail_after(self, path_contains: str, n_ok: int, kind: str, times: int = 1,
                   method: str | None = None) -> None:
        with self._lock:
            self._faults.append(_Fault(path_contains, kind, times, method, n_ok))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> str | None:
        """Record the request and consume the first queued fault that matches it, if any."""
        with self._lock:
            self.requests.append((method, path))
            for f in self._faults:
                if f.path_contains in path and f.method in (None, method):
                    if f.n_ok > 0:  # fail_after: this one is let through
                        f.n_ok -= 1
                        return None
                    f.times -= 1
                    self.injected += 1
                    if f.times <= 0:
                        self._faults.remove(f)
                    return f.kind
            return None

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real server; needs Content-Length

            def log_message(self, format, *args):
                pass  # keep test output clean

            def _any(self):
                fake._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _any

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self.scorer is not None:
            self.scorer.close()
        if self.schema_errors and exc[0] is None:
            raise AssertionError("requests a Qdrant server would refuse:\n" + "\n".join(self.schema_errors))

    # -- HTTP plumbing --------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = urlsplit(h.path).path
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if h.headers.get("api-key"):
            with self._lock:
                self.api_keys.append(h.headers["api-key"])
        kind = self._take_fault(h.command, path)
        if kind == "reset":
            # SO_LINGER 0 + close sends a TCP RST; detach() so later cleanup can't touch the fd
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socket.socket(fileno=h.connection.detach()).close()
            h.close_connection = True
            return
        if kind == "timeout" and self._closing.wait(self.delay_s):
            h.close_connection = True  # shutting down: give up instead of blocking shutdown
            return
        if kind in STATUS_KINDS:
            msg = "Bad request: injected" if kind == "400" else f"Service error: injected {kind}"
            extra = {"Retry-After": self.retry_after} if kind == "429" and self.retry_after else {}
            return self._send(h, int(kind), {"status": {"error": msg}, "time": 0.0}, extra)
        try:
            body = json.loads(raw) if raw else {}
            refused = problems(h.command, path, body)
            if refused:
                with self._lock:
                    self.schema_errors += refused
                return self._send(h, 400, {"status": {"error": "Format error in JSON body: " + "; ".join(refused)},
                                           "time": 0.0})
            with self._lock:  # one request at a time mutates/reads the stores; they are tiny
                self.bodies.append((h.command, path, body))
                status, result = self._route(h.command, path, body)
        except Exception as e:  # noqa: BLE001 - a bug or odd request: answer like Qdrant does, don't hang the client
            status, result = 400, {"status": {"error": f"Bad request: {e!r}"}, "time": 0.0}
        self._send(h, status, result)

    @staticmethod
    def _send(h, status: int, payload, headers=None) -> None:
        data = json.dumps(payload).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            h.close_connection = True  # client already gave up (e.g. after a "timeout" stall)

    # -- the REST API ---------------------------------------------------------------------
    def _route(self, method: str, path: str, body: dict):
        if method == "GET" and path == "/":  # qdrant-client's version check (background thread)
            return 200, {"title": "qdrant - vector search engine",
                         "version": self.version or importlib.metadata.version("qdrant-client")}
        if method == "GET" and path == "/collections":
            names = [{"name": n} for n in self.collections]
            return 200, self._ok({"collections": names})
        mt = re.fullmatch(r"/collections/([^/]+)(/.*)?", path)
        if not mt:
            return self._not_found(path)
        name, rest = unquote(mt.group(1)), mt.group(2) or ""
        if (method, rest) == ("GET", "/exists"):
            return 200, self._ok({"exists": name in self.collections})
        if (method, rest) == ("PUT", ""):
            if name in self.collections:
                return 409, {"status": {"error": f"Wrong input: Collection `{name}` already exists!"}}
            self.collections[name], self.points[name] = body, {}
            if body.get("sharding_method") == "custom":
                self.shards[name] = {}
            return 200, self._ok(True)
        if name not in self.collections:
            return self._not_found(f"Collection `{name}` doesn't exist!")
        if rest in ("/shards", "/cluster"):
            return self._sharding(method, name, rest, body)
        try:
            shard = self._shard(name, body, write=method == "PUT" and rest == "/points")
        except LookupError as e:
            return 400, {"status": {"error": f"Bad request: {e}"}, "time": 0.0}
        pts = {k: p for k, p in self.points[name].items() if shard is None or p.get("shard") == shard}
        if (method, rest) == ("GET", ""):
            return 200, self._ok(self._collection_info(name))
        if (method, rest) == ("PATCH", ""):  # update_collection: metadata and vectors' settings
            meta = self.collections[name].setdefault("metadata", {})
            meta.update(body.get("metadata") or {})
            for kind in ("vectors", "sparse_vectors"):
                for vector, diff in (body.get(kind) or {}).items():
                    self.collections[name][kind][vector].update({k: v for k, v in diff.items() if v is not None})
            return 200, self._ok(True)
        vector = re.fullmatch(r"/vectors/([^/]+)", rest)
        if method == "PUT" and vector:  # create_vector_name
            kind, config = next(iter(body.items()))
            self.collections[name].setdefault("vectors" if kind == "dense" else "sparse_vectors", {})[
                unquote(vector.group(1))] = {k: v for k, v in config.items() if v is not None}
            return 200, self._update()
        if (method, rest) == ("DELETE", ""):
            del self.collections[name], self.points[name]
            self.shards.pop(name, None)
            return 200, self._ok(True)
        if (method, rest) == ("PUT", "/index"):
            return 200, self._update()
        if (method, rest) == ("PUT", "/points"):
            for p in body.get("points", []):
                self.points[name][str(p["id"])] = {"vector": p.get("vector"), "payload": p.get("payload"),
                                                   "shard": shard}
            return 200, self._update()
        if (method, rest) == ("POST", "/points/batch"):  # update_vectors and set_payload
            for op in body.get("operations", []):
                for p in (op.get("update_vectors") or {}).get("points", []):
                    pts[str(p["id"])]["vector"] = {**(pts[str(p["id"])]["vector"] or {}), **p["vector"]}
                put = op.get("set_payload") or {}
                for i in put.get("points", []):
                    pts[str(i)]["payload"] = {**(pts[str(i)]["payload"] or {}), **put["payload"]}
            return 200, self._ok([self._update()["result"] for _ in body.get("operations", [])])
        if (method, rest) == ("POST", "/points"):  # retrieve by ids
            found = [str(i) for i in body.get("ids", []) if str(i) in pts]
            return 200, self._ok([self._record(pts, k, body, True) for k in found])
        if (method, rest) == ("POST", "/points/delete"):
            ids = body.get("points")
            if ids is None:
                ids = [k for k, p in self._selected(name, pts, body.get("filter")).items()]
            for i in ids:
                if str(i) in pts:
                    del self.points[name][str(i)]
            return 200, self._update()
        if self.scorer is not None and (method, rest) == ("POST", "/points/count"):  # every kind of condition
            return 200, self._ok(self.scorer.count(name, self.collections[name], pts, self._op_id, body))
        if (method, rest) == ("POST", "/points/count"):
            return 200, self._ok({"count": sum(self._matches(k, p, body.get("filter")) for k, p in pts.items())})
        if (method, rest) == ("POST", "/points/scroll"):
            pts = self._selected(name, pts, body.get("filter"))
            keys, limit = list(pts), body.get("limit") or 10
            start = keys.index(str(body["offset"])) if body.get("offset") is not None else 0
            page = keys[start:start + limit]
            nxt = keys[start + limit] if start + limit < len(keys) else None
            return 200, self._ok({"points": [self._record(pts, k, body, True) for k in page],
                                  "next_page_offset": self._id(nxt) if nxt else None})
        if self.scorer is not None and method == "POST" and rest.startswith("/points/query"):
            return self._scored(name, rest, pts, body)
        if (method, rest) == ("POST", "/points/query"):
            return 200, self._ok(self._query(pts, body))
        if (method, rest) == ("POST", "/points/query/groups"):
            return 200, self._ok(self._groups(pts, body))
        if (method, rest) == ("POST", "/points/query/batch"):
            found = []
            for q in body.get("searches", []):
                shard = self._shard(name, q, write=False)
                found.append(self._query({k: p for k, p in self.points[name].items()
                                          if shard is None or p.get("shard") == shard}, q))
            return 200, self._ok(found)
        return self._not_found(path)

    def _selected(self, name: str, pts: dict, flt: dict | None) -> dict:
        """The points `flt` selects: by every kind of condition in scoring mode, else by the few
        the fake reads (`_matches`)."""
        if self.scorer is None or not flt:
            return {k: p for k, p in pts.items() if self._matches(k, p, flt)}
        kept = self.scorer.matching(name, self.collections[name], pts, self._op_id, flt)
        return {k: p for k, p in pts.items() if k in kept}

    def _scored(self, name: str, rest: str, pts: dict, body: dict):
        assert self.scorer is not None and name not in self.shards, "scoring: collections without custom sharding"
        config, state = self.collections[name], self._op_id
        if rest == "/points/query/batch":
            return 200, self._ok([self.scorer.query(name, config, pts, state, q) for q in body.get("searches", [])])
        if rest == "/points/query/groups":
            return 200, self._ok(self.scorer.groups(name, config, pts, state, body))
        if rest == "/points/query":
            return 200, self._ok(self.scorer.query(name, config, pts, state, body))
        return self._not_found(rest)

    # -- custom sharding ------------------------------------------------------------------
    def _shard(self, name: str, body: dict, write: bool) -> str | None:
        """The shard key a request goes to (None: every shard, or not sharded)."""
        keys, sel = self.shards.get(name), body.get("shard_key")
        if keys is None:
            if sel is not None:
                raise LookupError("shard_key given for a collection without custom sharding")
            return None
        if sel is None:
            if write:
                raise LookupError("Shard key not specified: custom sharding needs one on writes")
            return None
        if isinstance(sel, dict):
            sel = sel["target"] if keys.get(sel["target"]) == "active" else sel["fallback"]
        if sel not in keys:
            raise LookupError(f"Shard key {sel!r} not found")
        return sel

    def _sharding(self, method: str, name: str, rest: str, body: dict):
        keys = self.shards.get(name)
        if keys is None:
            return 400, {"status": {"error": "Bad request: collection has no custom sharding"}, "time": 0.0}
        if (method, rest) == ("GET", "/shards"):
            return 200, self._ok({"shard_keys": [{"key": k} for k in keys]})
        if (method, rest) == ("PUT", "/shards"):
            key = body["shard_key"]
            if key in keys:
                return 400, {"status": {"error": f"Bad request: Shard key {key} already exists"}, "time": 0.0}
            keys[key] = "partial" if body.get("initial_state") == "Partial" else "active"
            return 200, self._ok(True)
        move = body.get("replicate_points") if (method, rest) == ("POST", "/cluster") else None
        if move is None:
            return self._not_found(rest)
        source, target = move["from_shard_key"], move["to_shard_key"]
        for k, p in list(self.points[name].items()):  # the transfer, done at once: a copy each
            if p.get("shard") == source and self._matches(k, p, move.get("filter")):
                self.points[name][f"{k}@{target}"] = {**p, "shard": target, "copy_of": k}
        keys[target] = "active"
        return 200, self._ok(True)

    @classmethod
    def _matches(cls, key: str, point: dict, flt: dict | None) -> bool:
        if not flt:
            return True
        conds = lambda part: [c for c in flt.get(part) or [] if isinstance(c, dict)]
        return all(cls._holds(key, point, c) for c in conds("must")) \
            and not any(cls._holds(key, point, c) for c in conds("must_not")) \
            and (not conds("should") or any(cls._holds(key, point, c) for c in conds("should")))

    @classmethod
    def _holds(cls, key: str, point: dict, c: dict) -> bool:
        if "has_id" in c:
            return point.get("copy_of", key) in {str(i) for i in c["has_id"]}
        if "has_vector" in c:
            return c["has_vector"] in (point.get("vector") or {})
        if "must" in c or "should" in c or "must_not" in c:
            return cls._matches(key, point, c)
        if "key" in c and isinstance(c.get("match"), dict) and set(c["match"]) & {"value", "any"}:
            value: object = point.get("payload") or {}
            for part in c["key"].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            match = c["match"]
            return value == match["value"] if "value" in match else value in match["any"]
        return True

    def _query(self, pts: dict, body: dict) -> dict:
        keys = [k for k in pts if self._reached(pts[k], body)][body.get("offset") or 0:][: body.get("limit") or 10]
        scored = [{**self._record(pts, k, body, False), "score": 1.0, "version": 0} for k in keys]
        return {"points": scored}

    def _groups(self, pts: dict, body: dict) -> dict:
        """Qdrant's grouped query: the points the query reaches, by the payload value at
        `group_by` (each value of an array its own group; a point without a string or integer
        value there is in none), the best `limit` groups ordered by their best hit, each with
        its best `group_size` hits (scores all 1.0 here: ties keep the order points were stored)."""
        groups: dict[object, list[dict]] = {}
        for k in (k for k in pts if self._reached(pts[k], body)):
            value = self._at(pts[k].get("payload") or {}, body["group_by"])
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, (str, int)) and not isinstance(v, bool):
                    groups.setdefault(v, []).append({**self._record(pts, k, body, False), "score": 1.0, "version": 0})
        size = body.get("group_size") or 3
        best = sorted(groups.items(), key=lambda g: -max(h["score"] for h in g[1]))[: body.get("limit") or 10]
        return {"groups": [{"id": v, "hits": sorted(hits, key=lambda h: -h["score"])[:size]} for v, hits in best]}

    @staticmethod
    def _at(payload: dict, path: str) -> object:
        """The payload value at a key path (`a.b`, a key with a dot in double quotes)."""
        value: object = payload
        for part in re.findall(r'"[^"]*"|[^.]+', path):
            value = value.get(part.strip('"')) if isinstance(value, dict) else None
        return value

    @classmethod
    def _reached(cls, point: dict, query: dict) -> bool:
        """Whether a query can find the point: it has the vector the query searches by, and one
        of its prefetches reaches it (a fusion, without a vector of its own, needs one)."""
        if query.get("using") and query["using"] not in (point.get("vector") or {}):
            return False
        prefetch = query.get("prefetch") or []
        prefetch = [prefetch] if isinstance(prefetch, dict) else prefetch
        return not prefetch or any(cls._reached(point, p) for p in prefetch)

    def _record(self, pts: dict, key: str, body: dict, payload_default: bool) -> dict:
        p = pts[key]
        selector = body.get("with_payload", payload_default)
        payload = p["payload"] if selector else None
        if isinstance(selector, dict) and payload is not None:  # {"include": [...]} or {"exclude": [...]}
            keep = (lambda k: k in selector["include"]) if "include" in selector else (lambda k: k not in selector["exclude"])
            payload = {k: v for k, v in payload.items() if keep(k)}
        return {"id": self._id(p.get("copy_of", key)), "payload": payload,
                "vector": p["vector"] if body.get("with_vector") else None}

    def _collection_info(self, name: str) -> dict:
        # Built with qdrant-client's own models so that the client is sure to parse it back.
        body = self.collections[name]
        hnsw = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000,
                **{k: v for k, v in (body.get("hnsw_config") or {}).items() if v is not None}}
        info = m.CollectionInfo(
            status="green", optimizer_status="ok", segments_count=1,
            points_count=len(self.points[name]), indexed_vectors_count=0, payload_schema={},
            config=m.CollectionConfig(
                params=m.CollectionParams(vectors=body.get("vectors"),
                                          sparse_vectors=body.get("sparse_vectors"),
                                          on_disk_payload=body.get("on_disk_payload", True),  # a server's default
                                          sharding_method=body.get("sharding_method")),
                hnsw_config=m.HnswConfig(**hnsw),
                optimizer_config=m.OptimizersConfig(deleted_threshold=0.2, vacuum_min_vector_number=1000,
                                                  default_segment_number=0, flush_interval_sec=5),
                metadata=body.get("metadata"),
            ),
        )
        return info.model_dump(mode="json", exclude_none=True)

    @staticmethod
    def _id(key: str):
        return int(key) if key.isdigit() else key  # ids are stored as str; Qdrant ids are uint or UUID

    def _update(self) -> dict:
        self._op_id += 1  # called under self._lock
        return self._ok({"operation_id": self._op_id, "status": "completed"})

    @staticmethod
    def _ok(result) -> dict:
        return {"result": result, "status": "ok", "time": 0.0}

    @staticmethod
    def _not_found(what: str):
        return 404, {"status": {"error": f"Not found: {what}"}, "time": 0.0}
