"""The rule that keeps host paths off the inspector's page: an absolute path outside the index
folder is shown as "…/" and its last part; one inside it, relative to the folder."""

from __future__ import annotations

from hybridstore.inspector.facts import Hider


def test_paths_outside_the_folder_show_their_last_part_only(tmp_path):
    hider = Hider(str(tmp_path / "index"))
    assert hider.text("/home/ana/notes.md") == "…/notes.md"
    assert hider.text("read from /home/ana/docs/ and /etc/passwd, done") == "read from …/docs and …/passwd, done"
    assert hider.text(f"{tmp_path}/index/inspect/wal") == "inspect/wal"
    assert hider.text(f"{tmp_path}/index-other/x") == "…/x"  # a sibling whose name starts alike
    assert hider.text(f"{tmp_path}/index/../secret.txt") == "…/secret.txt"
    assert hider.text("see ~/private/key.pem") == "see …/key.pem"  # a home path is a host path


def test_texts_that_are_not_paths_stay_as_they_are():
    hider = Hider(None)
    for text in ("and/or", "1/2 cup", "https://example.org/a/b", "rates rose 2.5/3", "a.b/c", "x~/y", "<b>bold</b>"):
        assert hider.text(text) == text


def test_every_string_of_a_value_is_hidden_and_nothing_else_changes():
    hider = Hider(None)
    value = {"source": "/srv/data/a.txt", "n": 3, "tags": ["/x/y", None, 1.5], "ok": True}
    assert hider.value(value) == {"source": "…/a.txt", "n": 3, "tags": ["…/y", None, 1.5], "ok": True}
