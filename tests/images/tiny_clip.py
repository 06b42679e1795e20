"""A tiny CLIP-shaped model pair, built at test time in fastembed's folder layout.

The image tower scores an image's mean colour against the eight corners of the RGB cube, so a
solid-colour image comes out as (almost exactly) the one-hot vector of its colour. The text tower
sums one-hot vectors of the colour words it reads, so "a photo of a red thing" lands on the red
image. Both load offline through fastembed with `specific_model_path`:

    ImageEmbedding("Qdrant/clip-ViT-B-32-vision", specific_model_path=str(vision))
    TextEmbedding("Qdrant/clip-ViT-B-32-text", specific_model_path=str(text))

fastembed still reports the descriptions' dim (512) as `embedding_size`; the vectors have DIM.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

COLOURS = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "cyan": (0, 255, 255),
    "magenta": (255, 0, 255),
    "white": (255, 255, 255),
    "black": (0, 0, 0),
}
DIM = len(COLOURS)  # one axis per colour
FILLERS = ["a", "an", "the", "of", "photo", "picture", "image", "thing", "square", "solid", "plain", "this", "is"]

# CLIP's own normalization, so the image tower has to undo it like a real one would see it.
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
SIZE = 16
SHARPNESS = 30.0  # prototypes are >= 1 apart (squared), so e^-30 leaves the others at ~0
FILLER_WEIGHT = 0.01  # never a zero vector, but too small to move a colour word's direction
OPSET = 17


def _const(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # old enough for any onnxruntime that supports the opset
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _vision_graph() -> onnx.GraphProto:
    protos = np.array(list(COLOURS.values()), dtype=np.float32) / 255.0
    nodes = [
        helper.make_node("Mul", ["pixel_values", "std"], ["scaled"]),
        helper.make_node("Add", ["scaled", "mean"], ["rgb"]),  # back to [0, 1]
        helper.make_node("ReduceMean", ["rgb"], ["avg"], axes=[2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["avg", "axis1"], ["avg3"]),
        helper.make_node("Sub", ["avg3", "protos"], ["diff"]),  # [N, DIM, 3]
        helper.make_node("Mul", ["diff", "diff"], ["sq"]),
        helper.make_node("ReduceSum", ["sq", "axis2"], ["dist"], keepdims=0),
        helper.make_node("Mul", ["dist", "neg_sharpness"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["image_embeds"], axis=1),
    ]
    inits = [
        _const("std", np.array(STD, np.float32).reshape(1, 3, 1, 1)),
        _const("mean", np.array(MEAN, np.float32).reshape(1, 3, 1, 1)),
        _const("axis1", np.array([1], np.int64)),
        _const("axis2", np.array([2], np.int64)),
        _const("protos", protos),
        _const("neg_sharpness", np.array(-SHARPNESS, np.float32)),
    ]
    return helper.make_graph(
        nodes,
        "tiny_clip_vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", DIM])],
        inits,
    )


def _text_graph(vocab: dict[str, int]) -> onnx.GraphProto:
    table = np.zeros((len(vocab), DIM), np.float32)
    for i, word in enumerate(COLOURS):
        table[vocab[word], i] = 1.0
    for word in FILLERS + ["<unk>"]:
        table[vocab[word]] = FILLER_WEIGHT
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["tokens"]),  # [N, L, DIM]
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["tokens", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        # the real Qdrant export hands back unit vectors and fastembed does not normalize CLIP text
        helper.make_node("Mul", ["summed", "summed"], ["sq"]),
        helper.make_node("ReduceSum", ["sq", "axis1"], ["sqsum"], keepdims=1),
        helper.make_node("Sqrt", ["sqsum"], ["norm"]),
        helper.make_node("Max", ["norm", "eps"], ["safe"]),
        helper.make_node("Div", ["summed", "safe"], ["text_embeds"]),
    ]
    inits = [
        _const("table", table),
        _const("axis1", np.array([1], np.int64)),
        _const("axis2", np.array([2], np.int64)),
        _const("eps", np.array(1e-12, np.float32)),
    ]
    return helper.make_graph(
        nodes,
        "tiny_clip_text",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", "L"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["N", "L"]),
        ],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["N", DIM])],
        inits,
    )


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2))


def build(root: Path) -> tuple[Path, Path]:
    """Write the pair under `root`; returns (vision folder, text folder)."""
    vision, text = Path(root) / "tiny-clip-vision", Path(root) / "tiny-clip-text"
    vision.mkdir(parents=True, exist_ok=True)
    text.mkdir(parents=True, exist_ok=True)

    _save(_vision_graph(), vision / "model.onnx")
    _write_json(vision / "config.json", {"model_type": "clip_vision_model", "projection_dim": DIM})
    _write_json(vision / "preprocessor_config.json", {
        "image_processor_type": "CLIPImageProcessor",
        "do_convert_rgb": True,
        "do_resize": True,
        "size": {"shortest_edge": SIZE},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": SIZE, "width": SIZE},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": MEAN,
        "image_std": STD,
    })

    vocab = {w: i for i, w in enumerate(["<pad>", "<unk>", *COLOURS, *FILLERS])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.enable_padding(pad_id=vocab["<pad>"], pad_token="<pad>")
    tokenizer.save(str(text / "tokenizer.json"))
    _save(_text_graph(vocab), text / "model.onnx")
    _write_json(text / "config.json", {"model_type": "clip_text_model", "projection_dim": DIM, "pad_token_id": 0})
    _write_json(text / "tokenizer_config.json", {"model_max_length": 77, "pad_token": "<pad>", "unk_token": "<unk>"})
    _write_json(text / "special_tokens_map.json", {"pad_token": "<pad>", "unk_token": "<unk>"})
    return vision, text


def colour_image(path: Path, name: str, size: tuple[int, int] = (32, 32)) -> Path:
    """Write a solid PNG of COLOURS[name] to `path`."""
    path = Path(path)
    Image.new("RGB", size, COLOURS[name]).save(path, format="PNG")
    return path
