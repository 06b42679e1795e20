"""The core's messages name Python fixes (``mode='sparse'``, ``reembed()``); a command-line user
needs the flags. This is the one place they are translated, for every error and warning the
command line prints. A fix with no command-line form is marked as Python's."""

from __future__ import annotations

import re

RULES = [(re.compile(pattern), repl) for pattern, repl in (
    (r"engine='(\w+)' \((?:the default; )?CLI: --engine \w+\)", r"--engine \1"),
    (r"reembed\(\) \(CLI: hybridstore reembed\)", "hybridstore reembed"),
    (r"reembed\(\) adds missing vectors", ("hybridstore reembed (with the new model's flag, "
                                           "e.g. --late MODEL) adds missing vectors")),
    (r"(?:call )?reembed\(\)", "hybridstore reembed"),
    (r"mode='(\w+)' or '(\w+)'", r"--mode \1 or --mode \2"),
    (r"mode='(\w+)'", r"--mode \1"),
    (r"rerank=False", "--no-rerank"),
    (r"(?:configure )?Models\(dense=\.\.\.\)", "--dense MODEL"),
    (r"pass dense= vectors or ", ""),
    (r"pack= or \$HYBRIDSTORE_MODELS", "--pack DIR or $HYBRIDSTORE_MODELS"),
    (r"given as pack=", "given as --pack"),
    (r"quantize='int8'", "--int8"),
    (r"without storage= \(or with its own\)", "without --storage (or with its own)"),
    (r"\(copy_to, hybridstore copy\)", "(hybridstore copy)"),
    (r"another collection, or drop\(\) it", "another --collection, or delete it (in Python: drop())"),
    (r"\(vector_names=", "(in Python: vector_names="),
    (r"then drop_vector\(", "then (in Python) drop_vector("),
    (r"or drop_vector\(", "or (in Python) drop_vector("),
)]


def for_cli(message: str) -> str:
    for pattern, repl in RULES:
        message = pattern.sub(repl, message)
    return message
