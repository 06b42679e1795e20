"""A tiny ColPali-shaped model, built at test time in fastembed's folder layout.

One ONNX graph with ColPali's inputs (`input_ids`, `attention_mask`, `pixel_values`) and one
output of 128-d vectors, loaded offline through fastembed's ColPali class:

    LateInteractionMultimodalEmbedding("Qdrant/colpali-v1.3-fp16", specific_model_path=str(folder))

- An image (fastembed sends ColPali's 1030 placeholder token ids, all of them but six beyond any
  vocabulary) becomes GRID x GRID patch vectors: each patch's mean colour scored against the
  eight corners of the RGB cube, so a solid patch comes out (almost exactly) as the one-hot
  vector of its colour.
- A text query (fastembed sends ids of our small vocabulary, a zero image) becomes one vector per
  token: a colour word its colour's axis, every other token (the "Query:" prefix, fillers, the
  ten <pad> augmentation tokens) the FILLER axis, which no patch has.

So a query's MaxSim with a page is the number of its colour words that the page shows in some
patch: "red blue" scores 2 on a page with one red and one blue patch, 1 on an all-red page,
whose mean (pooled) vector is nevertheless the closer one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from .tiny_clip import COLOURS

NAME = "Qdrant/colpali-v1.3-fp16"
DIM = 128  # fastembed reshapes image outputs by the description's dim: it must be ColPali's
FILLER = len(COLOURS)  # the axis of every token that is not a colour word
GRID = 4  # patches per side
SIZE = 32  # the preprocessor's square
SHARPNESS = 30.0
IMAGE_IDS = 100_000  # ColPali's image placeholder id (257152) is above this, our vocabulary below
WORDS = ["query", ":", "a", "the", "page", "with", "and", "of", "show", "shows", "me"]
OPSET = 17


def _const(name: str, value: object) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _graph(vocab: dict[str, int], sharpness: float) -> onnx.GraphProto:
    table = np.zeros((len(vocab), DIM), np.float32)
    table[:, FILLER] = 1.0
    for i, word in enumerate(COLOURS):
        table[vocab[word]] = 0.0
        table[vocab[word], i] = 1.0
    protos = np.array(list(COLOURS.values()), dtype=np.float32) / 255.0
    n = helper.make_node
    nodes = [
        # patches: mean colour of each cell of a GRID x GRID grid, whatever the image's size
        n("Mul", ["pixel_values", "half"], ["scaled"]), n("Add", ["scaled", "half"], ["rgb"]),  # undo (x-.5)/.5
        n("Shape", ["pixel_values"], ["shape"]),
        n("Gather", ["shape", "hw_idx"], ["hw"]), n("Div", ["hw", "grid"], ["cell"]),
        n("Split", ["cell"], ["cell_h", "cell_w"], axis=0),
        n("Concat", ["lead", "cell_h", "grid", "cell_w"], ["cells"], axis=0),
        n("Reshape", ["rgb", "cells"], ["grid6"]),  # [N, 3, G, h, G, w]
        n("ReduceMean", ["grid6"], ["means"], axes=[3, 5], keepdims=0),  # [N, 3, G, G]
        n("Reshape", ["means", "flat"], ["flat3"]),  # [N, 3, G*G]
        n("Transpose", ["flat3"], ["patches_rgb"], perm=[0, 2, 1]),  # [N, P, 3]
        n("Unsqueeze", ["patches_rgb", "axis2"], ["p4"]),
        n("Sub", ["p4", "protos"], ["diff"]), n("Mul", ["diff", "diff"], ["sq"]),
        n("ReduceSum", ["sq", "axis3"], ["dist"], keepdims=0),  # [N, P, colours]
        n("Mul", ["dist", "neg_sharpness"], ["logits"]),
        n("Softmax", ["logits"], ["onehot"], axis=2),
        n("Pad", ["onehot", "pads"], ["patches"]),  # [N, P, DIM]
        # tokens: a table lookup (ids beyond the vocabulary read its last row, a filler)
        n("Min", ["input_ids", "last_id"], ["ids"]),
        n("Gather", ["table", "ids"], ["tokens"]),  # [N, L, DIM]
        # which of the two: an image's placeholder ids are beyond any vocabulary
        n("ReduceMax", ["input_ids"], ["top"], keepdims=0),
        n("Greater", ["top", "image_ids"], ["is_image_b"]),
        n("Cast", ["is_image_b"], ["is_image0"], to=TensorProto.INT64),
        n("Reshape", ["is_image0", "one"], ["is_image"]),
        n("Sub", ["one_i", "is_image"], ["is_text"]),
        n("Shape", ["input_ids"], ["ishape"]), n("Gather", ["ishape", "one_i"], ["length"]),
        n("Mul", ["is_text", "patch_count"], ["start"]),
        n("Mul", ["is_text", "length"], ["text_len"]), n("Add", ["patch_count", "text_len"], ["end"]),
        n("Concat", ["patches", "tokens"], ["both"], axis=1),
        n("Slice", ["both", "start", "end", "one_i"], ["last_hidden_state"]),
    ]
    patch_count = GRID * GRID
    inits = [
        _const("half", np.float32(0.5)),
        _const("hw_idx", np.array([2, 3], np.int64)),
        _const("grid", np.array([GRID], np.int64)),
        _const("lead", np.array([-1, 3, GRID], np.int64)),
        _const("flat", np.array([0, 3, patch_count], np.int64)),
        _const("axis2", np.array([2], np.int64)),
        _const("axis3", np.array([3], np.int64)),
        _const("protos", protos),
        _const("neg_sharpness", np.float32(-sharpness)),
        _const("pads", np.array([0, 0, 0, 0, 0, DIM - len(COLOURS)], np.int64)),
        _const("last_id", np.array(len(vocab) - 1, np.int64)),
        _const("table", table),
        _const("image_ids", np.array(IMAGE_IDS, np.int64)),
        _const("one", np.array([1], np.int64)),
        _const("one_i", np.array([1], np.int64)),
        _const("patch_count", np.array([patch_count], np.int64)),
    ]
    return helper.make_graph(
        nodes, "tiny_colpali",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", "L"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["N", "L"]),
         helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["N", "T", DIM])],
        inits,
    )


def _write_json(path: Path, data: dict[str, object]) -> None:
    path.write_text(json.dumps(data, indent=2))


def build(root: Path, sharpness: float = SHARPNESS) -> Path:
    """Write the model under `root` (another `sharpness`: other weights); returns its folder."""
    folder = Path(root) / "tiny-colpali"
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", "<s>", *COLOURS, *WORDS])}
    model = helper.make_model(_graph(vocab, sharpness), opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.enable_padding(pad_id=vocab["<pad>"], pad_token="<pad>")
    tokenizer.save(str(folder / "tokenizer.json"))
    _write_json(folder / "config.json", {"model_type": "colpali", "pad_token_id": 0})
    _write_json(folder / "tokenizer_config.json", {"model_max_length": 64, "pad_token": "<pad>"})
    _write_json(folder / "special_tokens_map.json", {"pad_token": "<pad>", "bos_token": "<s>", "unk_token": "<unk>"})
    _write_json(folder / "preprocessor_config.json", {
        "image_processor_type": "SiglipImageProcessor", "do_convert_rgb": True, "do_resize": True,
        "size": {"height": SIZE, "width": SIZE}, "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]})
    return folder


def page(path: Path, cells: dict[tuple[int, int], str], background: str = "white") -> Path:
    """A PNG page of GRID x GRID cells in `background`, with the cells (row, column) given coloured."""
    side = SIZE * 2
    image = Image.new("RGB", (side, side), COLOURS[background])
    step = side // GRID
    for (row, col), colour in cells.items():
        image.paste(COLOURS[colour], (col * step, row * step, (col + 1) * step, (row + 1) * step))
    image.save(path, format="PNG")
    return Path(path)
