"""What a command tells the user besides its result: warnings summed up once, skipped inputs."""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, Self

SHOWN = 20  # problems listed one per line; the rest are counted


@contextlib.contextmanager
def warnings_summed(cut_hint: str = "") -> Iterator[None]:
    """Warnings of the whole command, printed once at its end without source lines:
    truncation as one line per model with totals (and `cut_hint`, the command's fix), any
    other warning once."""
    from ..errors import TruncationWarning
    from .words import for_cli

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except KeyboardInterrupt:  # Ctrl-C ends with one line, and nothing else
            caught.clear()
            raise
        finally:
            cut: dict[tuple[str, str, int | str | None], int] = defaultdict(int)
            others: dict[str, None] = {}
            for w in caught:
                if isinstance(w.message, TruncationWarning):
                    key = (w.message.kind, w.message.model, w.message.window)
                    cut[key] += w.message.count
                else:
                    others.setdefault(f"{w.category.__name__}: {w.message}")
            for (kind, model, window), count in cut.items():
                print(f"note: {count} texts were longer than the {window}-token window of "
                      f"{kind} model {model!r}: only their beginning was embedded (the whole text is "
                      f"stored). {cut_hint}".rstrip(), file=sys.stderr)
            for text in others:
                print(f"warning: {for_cli(text)}", file=sys.stderr)


def problems(found: Sequence[object], to_file: str | None = None) -> None:
    """The skipped inputs on stderr (the first SHOWN), and all of them in `to_file` if given."""
    if to_file is not None:
        with open(to_file, "w", encoding="utf-8") as f:
            f.writelines(f"{p}\n" for p in found)
    if not found:
        return
    print(f"{len(found)} input(s) skipped:", file=sys.stderr)
    for p in found[:SHOWN]:
        print(f"  {p}", file=sys.stderr)
    if len(found) > SHOWN:
        where = f"all are listed in {to_file}" if to_file else "--report FILE lists them all"
        print(f"  ... and {len(found) - SHOWN} more ({where})", file=sys.stderr)


class Progress:
    """Progress on stderr: tqdm's bar on a terminal; elsewhere (a log file, CI, a pipe) one
    plain line at each tenth of the total (every EVERY_S seconds when the total is unknown),
    so a long run is never silent."""

    EVERY_S = 30.0

    def __init__(self, desc: str, unit: str, total: int | None = None) -> None:
        self.desc, self.unit, self.total, self.n = desc, unit, total, 0
        self._start = self._last = time.monotonic()
        self._bar: Any = None  # a tqdm bar (tqdm has no type information)
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, n: int) -> None:
        before, self.n = self.n, self.n + n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if self.total:
            due = self.n * 10 // self.total > before * 10 // self.total
        else:
            due = now - self._last >= self.EVERY_S
        if due:
            self._last = now
            rate = self.n / max(now - self._start, 1e-9)
            share = f" ({100 * self.n // self.total}%)" if self.total else ""
            of = f"/{self.total}" if self.total else ""
            print(f"{self.desc}: {self.n}{of} {self.unit}{share}, {rate:.1f} {self.unit}/s",
                  file=sys.stderr, flush=True)
