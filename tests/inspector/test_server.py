"""`hybridstore inspect`: binds the loopback only, prints its URL with the port, serves the page
and its API, stops on Ctrl-C (releasing the folder), and names the extra when it is missing."""

from __future__ import annotations

import json
import signal
import sys
import urllib.request

import pytest

from hybridstore import HybridIndex
from hybridstore.errors import InvalidInputError
from hybridstore.inspector import server

from ..cli.test_cli import run


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org", "127.0.0.2", ""])
def test_any_host_but_the_loopback_is_refused(host, capsys, tmp_path):
    with pytest.raises(InvalidInputError, match="binds 127.0.0.1 only"):
        server.loopback(host)
    code, out, err = run(capsys, "inspect", "--path", str(tmp_path), "--host", host)
    assert code == 2 and "binds 127.0.0.1 only" in err and "ssh -L" in err and out == ""


def test_the_loopback_binds_a_free_port_and_names_it():
    for host in ("127.0.0.1", "localhost"):
        sock = server.bind(host, 0)
        try:
            address, port = sock.getsockname()
            assert address == "127.0.0.1" and port > 0 and server.url(sock) == f"http://127.0.0.1:{port}/"
        finally:
            sock.close()


def test_a_busy_port_names_the_fix():
    taken = server.bind("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="choose another --port, or 0"):
            server.bind("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


def test_without_the_extra_the_error_names_it(capsys, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m.startswith(("hybridstore.inspector", "starlette"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "starlette", None)  # as if not installed
    code, _, err = run(capsys, "inspect", "--path", str(tmp_path))
    assert code == 2 and "pip install 'hybridstore[inspect]'" in err and "starlette" in err


def test_it_serves_the_page_and_stops_on_ctrl_c(served, models):
    url, proc, folder = served
    with urllib.request.urlopen(url) as r:
        assert r.status == 200 and b"hybridstore inspect" in r.read()
    with urllib.request.urlopen(url + "api/overview") as r:
        assert json.loads(r.read())["collection"] == "inspect"
    asked = urllib.request.Request(url + "api/search", data=json.dumps({"query": "guitar", "k": 2}).encode(),
                                   headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(asked) as r:
        assert len(json.loads(r.read())["hits"]) == 2
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate()
    assert proc.returncode == 130 and err == "\ninterrupted\n"  # the CLI's Ctrl-C: one line, status 130
    with HybridIndex("inspect", models, path=str(folder)) as index:  # the folder's lock is released
        assert index.count() == 9
