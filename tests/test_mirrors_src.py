"""Tests mirror src: each module of src/hybridstore with logic of its own has a test module of
its own at the same place (src/hybridstore/qdrant/layouts.py -> tests/qdrant/test_layouts.py),
or is listed below: tested by named feature-level test files (which must exist), or without
logic to test, with the reason. A new module, a moved one, or a listed one that got its own
test module fails here until this list says what is true."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "hybridstore"
TESTS = ROOT / "tests"

# Modules whose tests are feature-level files named after what a user does, not after the module.
TESTED_IN = {
    "beir.py": ["test_chunking_beir.py"],
    "chunking.py": ["test_chunking_beir.py"],
    "closing.py": ["test_no_silent_wrong_answers.py", "llama_index/test_pipelines.py"],
    "copying.py": ["test_copy.py"],
    "snapshot_file.py": ["test_snapshots.py"],
    "image_sources.py": ["images/test_core.py", "images/test_odd_paths.py", "test_documents.py"],
    "rendering.py": ["test_documents.py", "images/test_pages.py"],
    "engine/edge_shards.py": ["engine/test_edge.py", "engine/test_compile.py", "engine/test_build_stall.py"],
    "engine/client_filters.py": ["engine/test_compile.py", "engine/test_parity.py"],
    "qdrant/filter_tree.py": ["qdrant/test_filters.py", "engine/test_edge_filters.py"],
    "qdrant/raw_filters.py": ["qdrant/test_filters.py"],
    "tenancy.py": ["test_tenants.py", "reliability/test_tenant_isolation.py"],
    "whynot.py": ["test_explain.py"],
    "boosting.py": ["test_boost.py"],
    "qdrant/boost.py": ["test_boost.py", "engine/test_compile.py"],
    "qdrant/formula.py": ["test_boost.py", "engine/test_compile.py"],
    "engine/client_boost.py": ["engine/test_compile.py", "test_boost.py"],
    "engine/edge_boost.py": ["engine/test_compile.py", "test_boost.py"],
    "selection.py": ["test_index.py", "test_tenants.py"],
    "steps.py": ["test_driver.py"],
    "stores.py": ["test_no_silent_wrong_answers.py", "langchain/test_vectorstore.py", "llama_index/test_pipelines.py"],
    "cli/__init__.py": ["cli/test_cli.py"],
    "cli/commands.py": ["cli/test_cli.py", "cli/test_cli_reading.py"],
    "cli/decoding.py": ["cli/test_cli_inputs.py"],
    "cli/evaluate.py": ["cli/test_cli.py", "cli/test_cli_trust.py"],
    "cli/ingest.py": ["cli/test_cli.py", "cli/test_cli_inputs.py", "cli/test_cli_trust.py"],
    "cli/opening.py": ["cli/test_cli.py"],
    "cli/report.py": ["cli/test_cli_reading.py", "cli/test_cli_messages.py"],
    "cli/sources.py": ["cli/test_cli_trust.py", "cli/test_cli_inputs.py"],
    "engine/client_compile.py": ["engine/test_compile.py", "engine/test_parity.py"],
    "engine/edge_compile.py": ["engine/test_compile.py", "engine/test_parity.py"],
    "engine/edge_worker.py": ["engine/test_build_stall.py", "engine/test_edge.py"],
    "engine/__init__.py": ["engine/test_open_engine.py"],
    "inference/embedder.py": ["inference/test_models.py", "inference/test_batching.py"],
    "inference/fingerprint.py": ["qdrant/test_signature.py"],
    "inference/images.py": ["images/test_core.py", "images/test_odd_paths.py"],
    "inference/pages.py": ["images/test_pages.py"],
    "inference/loading.py": ["inference/test_models.py"],
    "langchain/embeddings.py": ["langchain/test_standard_suites.py"],
    "langchain/images.py": ["images/test_langchain.py"],
    "langchain/retriever.py": ["langchain/test_vectorstore.py"],
    "llama_index/convert.py": ["llama_index/test_store_blackbox.py", "llama_index/test_pipelines.py"],
    "llama_index/embedding.py": ["llama_index/test_pipelines.py", "llama_index/test_anchor_collections.py"],
    "llama_index/images.py": ["images/test_llama_index.py"],
    "llama_index/vectorstore.py": ["llama_index/test_store_blackbox.py", "llama_index/test_pipelines.py"],
    "qdrant/payload.py": ["qdrant/test_payload_schema.py"],
    "cli/inspecting.py": ["inspector/test_server.py"],
    "inspector/answers.py": ["inspector/test_endpoints.py"],
    "inspector/asking.py": ["inspector/test_endpoints.py"],
}

# Modules with no logic of their own to test.
NO_LOGIC = {
    "__init__.py": "re-exports the public names (tests/docs/test_reference.py checks the documented ones)",
    "cli/__main__.py": "`python -m hybridstore.cli`: one call of main()",
    "engine/base.py": "the abstract Engine; its two defaults run in every engine test",
    "errors.py": "the exception classes, no code",
    "records.py": "Record and Hit, plain dataclasses",
    "inference/__init__.py": "re-exports",
    "langchain/__init__.py": "re-exports, behind the ImportError naming the extra",
    "llama_index/__init__.py": "re-exports, behind the ImportError naming the extra",
    "qdrant/__init__.py": "empty",
    "inspector/__init__.py": "the package's docstring",
}


def modules() -> list[str]:
    return sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py"))


def own_test(module: str) -> Path:
    path = Path(module)
    return TESTS / path.parent / f"test_{path.stem}.py"


def test_every_module_has_a_test_module_or_a_reason():
    lacking = [m for m in modules() if not own_test(m).is_file() and m not in TESTED_IN and m not in NO_LOGIC]
    assert not lacking, (f"modules without a test module of their own: {lacking}; add "
                         f"{[str(own_test(m).relative_to(ROOT)) for m in lacking]}, or list the module in "
                         "TESTED_IN (with the test files that test it) or NO_LOGIC (with why) in " + __file__)


def test_the_lists_name_what_exists():
    present = set(modules())
    gone = sorted((set(TESTED_IN) | set(NO_LOGIC)) - present)
    assert not gone, f"listed in {__file__} but not in src/hybridstore (moved or removed?): {gone}"
    own = sorted(m for m in set(TESTED_IN) | set(NO_LOGIC) if own_test(m).is_file())
    assert not own, f"these have a test module of their own now; take them off the lists in {__file__}: {own}"
    missing = sorted(f"{m}: tests/{t}" for m, files in TESTED_IN.items() for t in files if not (TESTS / t).is_file())
    assert not missing, f"test files named in TESTED_IN that do not exist: {missing}"
    assert not set(TESTED_IN) & set(NO_LOGIC)
