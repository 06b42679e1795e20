"""LlamaIndex: ImageNodes, MultiModalVectorStoreIndex over one hybridstore collection (text
store and its image view), HybridImageEmbedding, text-to-image and image-to-image retrieval;
with the constructed CLIP-shaped pair."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from llama_index.core import StorageContext
from llama_index.core.indices.multi_modal import MultiModalVectorStoreIndex
from llama_index.core.schema import ImageNode, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from hybridstore import InvalidInputError, SchemaMismatchError
from hybridstore.llama_index import HybridEmbedding, HybridImageEmbedding, HybridVectorStore

from .tiny_clip import colour_image


def nodes(pictures):
    captioned = [ImageNode(id_=f"{c}-photo", text=f"a photo for the {c} catalogue page", image_path=p,
                           metadata={"colour": c}) for c, p in list(pictures.items())[:4]]
    bare = [ImageNode(id_=f"{c}-bare", image_path=p, metadata={"colour": c}) for c, p in list(pictures.items())[4:]]
    texts = [TextNode(id_="story", text="The history of dyes and pigments in painting."),
             TextNode(id_="recipe", text="Bake the bread for forty minutes.")]
    return captioned + bare + texts


def test_multimodal_index_over_one_collection(clip, tmp_path):
    models, pictures = clip
    with HybridVectorStore("mm", models, path=str(tmp_path / "db")) as store:
        storage = StorageContext.from_defaults(vector_store=store, image_store=store.images())
        index = MultiModalVectorStoreIndex(nodes(pictures), storage_context=storage,
                                           embed_model=HybridEmbedding(models=models),
                                           image_embed_model=HybridImageEmbedding(models=models))
        stored = {r.id: r for r in store.index.get()}
        assert len(stored) == 10  # one point per node: text and image vectors together
        vectors = {v["name"]: v["points"] for v in store.index.info()["vectors"]}
        assert vectors == {"dense": 6, "sparse": 6, "image": 8}
        retriever = index.as_retriever(similarity_top_k=1, image_similarity_top_k=1)
        for colour in ("red", "cyan"):  # a captioned image and an image alone
            found = retriever.text_to_image_retrieve(f"a {colour} picture")
            assert found[0].node.metadata["colour"] == colour and isinstance(found[0].node, ImageNode)
            assert found[0].node.image_path == pictures[colour]
        assert retriever.text_retrieve("baking bread")[0].node.node_id == "recipe"
        query = colour_image(tmp_path / "q.png", "magenta", size=(30, 30))
        assert retriever.image_to_image_retrieve(str(query))[0].node.node_id == "magenta-bare"
        both = retriever.retrieve("a yellow catalogue page")
        assert {n.node.node_id for n in both} == {"yellow-photo"}  # the text store and the image view agree


async def test_async_image_view(clip, tmp_path):
    models, pictures = clip
    with HybridVectorStore("mm", models, path=str(tmp_path / "db")) as store:
        view = store.images()
        encoded = base64.b64encode(Path(pictures["green"]).read_bytes()).decode()
        await view.async_add([ImageNode(id_="g", image=encoded)])  # bytes: embedded, not stored
        got = await view.aquery(VectorStoreQuery(query_str="green", similarity_top_k=1))
        assert got.ids == ["g"] and got.nodes[0].image is None and store.index.get(["g"])[0].image.startswith("sha256:")
        embed = HybridImageEmbedding(models=models)
        by_vector = view.query(VectorStoreQuery(query_embedding=embed.get_image_embedding(pictures["green"]),
                                                similarity_top_k=1))
        assert by_vector.ids == ["g"]


def test_image_view_refusals(clip, tmp_path):
    models, pictures = clip
    with HybridVectorStore("mm", models, path=str(tmp_path / "db")) as store:
        view = store.images()
        wrong = ImageNode(id_="w", image_path=pictures["red"], embedding=[1.0] + [0.0] * 7)  # the green axis is not red's
        wrong.embedding = HybridImageEmbedding(models=models).get_image_embedding(pictures["blue"])
        with pytest.raises(SchemaMismatchError, match="image_embed_model"):
            view.add([wrong])
        with pytest.raises(InvalidInputError, match="URL"):
            view.add([ImageNode(id_="u", image_url="https://example.org/a.png")])
        with pytest.raises(InvalidInputError, match="image store"):
            view.query(VectorStoreQuery(query_str="red", mode="hybrid"))
        assert store.index.get() == []
