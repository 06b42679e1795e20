"""`hybridstore ingest --pages` over one long PDF: the ingesting process's peak memory and its
time, for an older commit and this code, side by side in one run.

Before, ingest rendered every page of every PDF to PNG bytes as it read the files and held them
all until the end; now each page is named by its file (`documents.PdfPage`) and rendered when
the batch that holds it is embedded (one render: its content hash and its vectors), then dropped. The PDF is `--source`
(a real one: its pages repeated to `--pages`), or pages written here (text, and an image on
every page). The page model is the constructed ColPali-shaped one of tests/images (no text
models: the renders are the difference), so the figures are the pipeline's, not a real model's.
Each run is its own `hybridstore` process, into a new folder; its peak resident memory is the
process's own (`wait4`), the engine's worker apart. Rounds alternate the two versions.

Usage: python benchmarks/pdf_pages.py [--rev HEAD~1] [--pages 360 1440] [--source PDF] [--rounds 2]
writes benchmarks/results/pdf_pages.json. A seconds-long run: --pages 6 --rounds 1 --rev HEAD.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procs import cpu
from side_by_side import checkout

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the constructed page model and PDFs are the tests'


def make_pdf(out: Path, pages: int, source: str | None) -> None:
    import pypdfium2
    from tests.pdfs import pdf

    if source is None:  # each page: a paragraph, and a picture (renders like a real page's figure)
        lines = [f"Page {n}: rivers carry water from the mountains to the sea." for n in range(pages)]
        out.write_bytes(pdf([[line] * 30 for line in lines]))
        _with_pictures(out)
        return
    src = pypdfium2.PdfDocument(source)
    doc = pypdfium2.PdfDocument.new()
    while len(doc) < pages:
        doc.import_pages(src, list(range(min(len(src), pages - len(doc)))))
    doc.save(str(out))


def _with_pictures(path: Path) -> None:
    """Every page also shows a noisy picture (what PNG cannot shrink to nothing: about the
    render of a real page with a figure)."""
    import numpy as np
    import pypdfium2
    from PIL import Image

    rng = np.random.default_rng(0)
    doc = pypdfium2.PdfDocument(str(path))
    for n in range(len(doc)):
        page = doc[n]
        picture = pypdfium2.PdfImage.new(doc)
        pixels = rng.integers(0, 256, (72, 72, 3), dtype=np.uint8)
        picture.set_bitmap(pypdfium2.PdfBitmap.from_pil(Image.fromarray(pixels)))
        picture.set_matrix(pypdfium2.PdfMatrix().scale(150, 150).translate(230, 80))
        page.insert_obj(picture)
        page.gen_content()
    doc.save(str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)


def ingest(tree: Path, model: Path, pdf: Path, work: Path) -> dict:
    index = tempfile.mkdtemp(dir=work)
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    cmd = [sys.executable, "-m", "hybridstore.cli", "--path", index, "--dense", "none", "--sparse", "none",
           "--pages", "Qdrant/colpali-v1.3-fp16", "--pages-path", str(model), "ingest", str(pdf)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{tree}: ingest failed:\n{err[-3000:]}")
    return {"peak_rss_mb": usage.ru_maxrss / 1024, "seconds": took, "said": out.strip().splitlines()[-1]}


def main(rev: str = "HEAD~1", pages: tuple[int, ...] = (360, 1440), source: str | None = None, rounds: int = 2,
         out: Path | None = HERE / "results" / "pdf_pages.json") -> dict:
    from tests.images.tiny_colpali import build

    result: dict = {"rev": rev, "source": source or "written here (text + a picture per page)", "dpi": 100,
                    "rounds": rounds, "sizes": {}, "machine": cpu()}
    with tempfile.TemporaryDirectory() as tmp, checkout(rev, "pdf-pages") as old:
        work = Path(tmp)
        model = build(work / "model")
        for size in pages:
            pdf = work / f"long-{size}.pdf"
            make_pdf(pdf, size, source)
            runs: dict[str, list[dict]] = {rev: [], "this code": []}
            for _ in range(rounds):
                for name, tree in ((rev, old), ("this code", ROOT)):
                    runs[name].append(ingest(tree, model, pdf, work))
            median = {name: {k: statistics.median(r[k] for r in rs) for k in ("peak_rss_mb", "seconds")}
                      for name, rs in runs.items()}
            result["sizes"][str(size)] = {
                "pages": size, "pdf_bytes": pdf.stat().st_size, "runs": runs, "median": median,
                "ratio (this code / rev)": {k: median["this code"][k] / median[rev][k] for k in ("peak_rss_mb", "seconds")},
            }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", default="HEAD~1", help="the older commit")
    ap.add_argument("--pages", type=int, nargs="+", default=[360, 1440], help="PDF sizes, one run each")
    ap.add_argument("--source", default=None, help="a PDF whose pages are repeated (default: pages written here)")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    print(json.dumps(main(a.rev, tuple(a.pages), a.source, a.rounds)))
