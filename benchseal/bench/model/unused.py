"""Stored tensors that the architecture never builds: no module of the model takes them, so they are never
counted in the headline total (issue 21: an unused 8x10^8-element tensor in an extra shard must not make a model
"8亿"). They are recorded in ``ParamCount.excluded['not_built_by_architecture']`` and, name by name (layer and
expert indices collapsed), in ``ParamCount.not_built`` of model.json, so a claims-level gate can name them.

Two rules, both transformers' own:

1. **transformers' ignore patterns.** A model class declares the checkpoint keys it drops on load in
   ``_keys_to_ignore_on_load_unexpected`` (regular expressions matched with ``re.search``; e.g. Qwen3-Next's
   ``^mtp.*``, DeepSeek-V3's ``model\\.layers\\.61.*``). :data:`IGNORE_ON_LOAD` holds them for the generative
   classes of transformers' causal-LM, image-text-to-text and multimodal-LM mappings (stdlib only, so a header
   count needs no torch); ``tests/integration/bench/model/test_unused_weights.py`` checks the table against the
   installed transformers. Classes that set the list in ``__init__`` from their config (Gemma 4, Step 3.7,
   Bailing hybrid) are not in it.
2. **The module tree.** When the tensors the architecture creates are known from config.json (the analytic
   count, :mod:`benchseal.bench.model.analytic`), a stored tensor is built when its name is one of them, or when
   the deepest module on its path that the architecture has holds parameters directly (a fused expert module
   that per-expert tensors load into, a linear layer whose quantised form stores ``weight_packed``). A tensor
   under a module the architecture does not have (``mtp.*``, ``model.layers.61`` of a 61-layer model, an extra
   ``model.extra.weight``) is not built. The rule is applied only when most stored names follow the
   architecture's own naming (else the checkpoint uses another layout that transformers renames on load, and
   the rule says nothing).
"""

from __future__ import annotations

import re
from typing import Iterable

# class name -> transformers' _keys_to_ignore_on_load_unexpected (transformers 5.24), for the classes of its
# causal-LM, image-text-to-text and multimodal-LM mappings that declare any
IGNORE_ON_LOAD: dict[str, tuple[str, ...]] = {
    'AXK1ForCausalLM': ('inv_freq', 'mlp\\.post_mlp_layernorm'),
    'AXK2ForCausalLM': ('inv_freq',),
    'Apertus1p5TextForCausalLM': ('^model\\.audio_tokenizer\\.', '^model\\.vision_tokenizer\\.'),
    'BartForCausalLM': ('decoder.version', 'encoder.version'),
    'CodeGenForCausalLM': ('attn.causal_mask',),
    'Cosmos3EdgeForConditionalGeneration': ('^(?:model\\.language_model\\.)?action_modality_embed$', '^(?:model\\.language_model\\.)?action_proj_(?:in|out)\\.(?:bias|fc)\\.weight$', '^(?:model\\.language_model\\.)?layers\\.\\d+\\.input_layernorm_moe_gen\\.', '^(?:model\\.language_model\\.)?layers\\.\\d+\\.mlp_moe_gen\\.', '^(?:model\\.language_model\\.)?layers\\.\\d+\\.post_attention_layernorm_moe_gen\\.', '^(?:model\\.language_model\\.)?layers\\.\\d+\\.self_attn\\.(?:add_[qkv]_proj|to_add_out|norm_added_[qk]|k_norm_und_for_gen)\\.', '^(?:model\\.language_model\\.)?norm_moe_gen\\.', '^(?:model\\.language_model\\.)?proj_(?:in|out)\\.', '^(?:model\\.language_model\\.)?time_embedder\\.'),
    'Cosmos3OmniForConditionalGeneration': ('\\.add_k_proj\\.', '\\.add_q_proj\\.', '\\.add_v_proj\\.', '\\.norm_added_k\\.', '\\.norm_added_q\\.', '\\.to_add_out\\.', '^action_modality_embed$', '^action_proj_in\\.', '^action_proj_out\\.', '^audio_modality_embed$', '^audio_proj_in\\.', '^audio_proj_out\\.', '^proj_in\\.', '^proj_out\\.', '^time_embedder\\.', 'moe_gen'),
    'DeepseekV32ForCausalLM': ('model\\.layers\\.61.*',),
    'DeepseekV3ForCausalLM': ('model\\.layers\\.61.*',),
    'DeepseekV4ForCausalLM': ('(^|\\.)mtp\\..*',),
    'Dots3NoteForCausalLM': ('^model\\.(language_model\\.)?layers\\.46\\.', '^model\\.(language_model\\.)?mtp\\.'),
    'Dots3NoteForConditionalGeneration': ('^model\\.(language_model\\.)?layers\\.46\\.', '^model\\.(language_model\\.)?mtp\\.'),
    'Ernie4_5_MoeForCausalLM': ('mtp',),
    'Exaone4_5_ForConditionalGeneration': ('mtp.*',),
    'ExaoneMoeForCausalLM': ('mtp.*',),
    'GPT2LMHeadModel': ('attn.bias', 'crossattention.bias'),
    'GPTJForCausalLM': ('attn.bias', 'attn.masked_bias'),
    'GPTNeoXForCausalLM': ('attention.bias', 'attention.masked_bias'),
    'Glm4MoeForCausalLM': ('model\\.layers\\.46.*', 'model\\.layers\\.92.*'),
    'Glm4MoeLiteForCausalLM': ('model\\.layers\\.47.*',),
    'Glm4vMoeForConditionalGeneration': ('model\\.layers\\.46.*', 'model\\.layers\\.92.*'),
    'Glm5NextForConditionalGeneration': ('layers\\.45\\.', 'layers\\.\\d+\\.shared_head\\.'),
    'GlmMoeDsaForCausalLM': ('model\\.layers\\.78.*',),
    'GlmOcrForConditionalGeneration': ('model\\.language_model\\.layers\\.16.*',),
    'GraniteDoclingForConditionalGeneration': ('^mtp\\.',),
    'HYV3ForCausalLM': ('model\\.layers\\.80.*',),
    'HYV4ForCausalLM': ('model\\.mtp_layers\\..*',),
    'HYV4VLForConditionalGeneration': ('model\\.mtp_layers\\..*',),
    'InklingForCausalLM': ('model\\.mtp\\..*',),
    'InklingForConditionalGeneration': ('model\\.mtp\\..*',),
    'LongcatFlashForCausalLM': ('model\\.mtp.*',),
    'MellumForCausalLM': ('^mtp\\.',),
    'MiMoV2FlashForCausalLM': ('^model\\.mtp\\.',),
    'MiniMaxM3SparseForConditionalGeneration': ('(^|\\.)mtp\\..*',),
    'MiniMaxM3VLForCausalLM': ('(^|\\.)mtp\\..*',),
    'MistralLarge4ForConditionalGeneration': ('mtp_dspark\\..*',),
    'Nemotron3_5TranscribeForConditionalGeneration': ('\\._extra_state$', '^ctc_timestamp\\.decoder\\.residual_scale$', '^ctc_timestamp\\.decoder\\.upsample_factor$', '^ctc_timestamp\\.tokenizer\\.model_proto$', '^llm\\.mtp\\.', '^perception\\.encoder\\.diarization_model\\.preprocessor\\.', '^perception\\.encoder\\.diarization_model\\.sortformer_modules\\.hidden_to_spks\\.', '^perception\\.preprocessor\\.'),
    'NemotronHForCausalLM': ('mtp.*',),
    'NemotronH_Omni_Reasoning_V3': ('audio_tower\\.feature_extractor\\.',),
    'OlmoHybridForCausalLM': ('^mtp.*',),
    'PaddleOCRVLForConditionalGeneration': ('packing_position_embedding', 'vision_model.head'),
    'Qwen3NextForCausalLM': ('^mtp.*',),
    'Qwen3_5ForCausalLM': ('^model.visual.*', '^mtp.*'),
    'Qwen3_5ForConditionalGeneration': ('^mtp.*',),
    'Qwen3_5MoeForCausalLM': ('^model.visual.*', '^mtp.*'),
    'Qwen3_5MoeForConditionalGeneration': ('^mtp.*',),
    'Qwen4ExpForCausalLM': ('^model.visual.*', '^mtp.*'),
    'Qwen4ExpForConditionalGeneration': ('^mtp.*',),
}


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


_BY_NORM = {_norm(k): k for k in IGNORE_ON_LOAD}
_INDEX_RE = re.compile(r"(?<=\.)\d+(?=\.|$)")
_EXPERT_RE = re.compile(r"\.experts\.\d+\.")
_LAYER_RE = re.compile(r"(?:^|\.)(?:layers|h|blocks|block)\.(\d+)\.")


def class_for(architecture: str | None) -> str | None:
    """The entry of :data:`IGNORE_ON_LOAD` for a config's ``architectures[0]``, spelled as transformers spells it
    or with other underscores and case (Moonshot's KimiK25ForConditionalGeneration is transformers'
    Kimi_K25ForConditionalGeneration)."""
    return _BY_NORM.get(_norm(architecture)) if isinstance(architecture, str) else None


class ModuleTree:
    """The tensors an architecture creates (names from the analytic count) and the modules on their paths."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        self.prefixes: set[str] = set()
        self.holders: set[str] = set()  # modules that hold a parameter or buffer directly
        for n in self.names:
            parts = n.split(".")
            self.holders.add(".".join(parts[:-1]))
            for i in range(1, len(parts)):
                self.prefixes.add(".".join(parts[:i]))

    def builds(self, name: str) -> bool:
        if name in self.names:
            return True
        i = name.rfind(".")
        while i > 0:
            p = name[:i]
            if p in self.prefixes:
                return p in self.holders
            i = name.rfind(".", 0, i)
        return False


class UnusedRule:
    """Decides, per stored tensor name, whether the architecture builds it (see the module docstring)."""

    def __init__(self, architecture: str | None, tree: ModuleTree | None, n_layers: int | None = None,
                 expected_total: int | None = None) -> None:
        self.n_layers = n_layers
        self.expected_total = expected_total  # elements of the tensors the architecture creates (with the tree)
        self.tree_checked = False
        self.cls = class_for(architecture)
        pats = IGNORE_ON_LOAD.get(self.cls, ()) if self.cls else ()
        self.patterns = pats
        self.ignore = re.compile("|".join(f"(?:{p})" for p in pats)) if pats else None
        self.tree = tree
        self.groups: dict[str, list] = {}  # collapsed name -> [tensors, elements, why]
        self.unbuilt: dict[str, str] = {}  # stored name -> why, filled by prepare()

    def prepare(self, names: list[str], *, tree: bool = False) -> str:
        """Decide, for every stored name at once, which ones the architecture does not build (:attr:`unbuilt`,
        name -> why): by transformers' ignore patterns, and with ``tree`` also by the module tree. Returns a note
        when the module-tree rule could not be used. Bulk string operations keep this to tens of milliseconds
        for the ~90,000 tensors of a 671B checkpoint; :func:`benchseal.bench.model.rules.tally` asks for the tree
        only when the stored total exceeds the architecture's (``expected_total``): a checkpoint that stores
        exactly the architecture's elements has nothing extra to find."""
        self.unbuilt = {}
        note = ""
        candidates: set[str] = set()
        if tree and self.tree is not None and names:
            tree = self.tree
            sample = names[::max(1, len(names) // 1024)]
            built = sum(1 for n in sample if tree.builds(n))
            if 2 * built < len(sample):
                self.tree = None
                note = (f"the stored tensor names follow another layout than the architecture's ({built:,} of "
                        f"{len(sample):,} sampled names match its modules), so weights the architecture does not "
                        "build were found by transformers' ignore patterns only")
            else:
                others = [n for n in names if n not in tree.names]
                # per-expert tensors load into one fused module: decide once per name with the expert index as '#'
                keys = _EXPERT_RE.sub(".experts.#.", "\n".join(others)).split("\n") if others else []
                bad = {k for k in set(keys) if not tree.builds(k)}
                if bad:
                    candidates.update(n for n, k in zip(others, keys) if k in bad)
        if self.ignore is not None and names:
            blob = "\n".join(names)
            rx = re.compile("|".join(f"(?:{p})" for p in self.patterns), re.M)
            for m in rx.finditer(blob):  # the lines (names) holding a match
                start = blob.rfind("\n", 0, m.start()) + 1
                end = blob.find("\n", m.end())
                candidates.add(blob[start:] if end < 0 else blob[start:end])
        for n in candidates:
            why = self.why_unused(n)
            if why is not None:
                self.unbuilt[n] = why
        return note

    def why_unused(self, name: str) -> str | None:
        """Why the architecture does not build the stored tensor ``name``, or None when it does.

        transformers drops every key its model does not have; its ignore patterns name the keys it expects to
        drop for the checkpoints it was written for. A pattern naming a layer index (GLM-4.5-Air's MTP layer
        ``model\\.layers\\.46.*``) is not trusted for a layer the model has (layer 46 of the 92-layer GLM-4.5):
        with the module tree the tree decides, without it such a match counts only past num_hidden_layers."""
        pat = None
        if self.ignore is not None and self.ignore.search(name) is not None:
            pat = next(p for p in self.patterns if re.search(p, name))
        if self.tree is not None:
            if self.tree.builds(name):
                return None
        elif pat is None:
            return None
        elif any(ch.isdigit() for ch in pat):
            m = _LAYER_RE.search(name)
            if m is not None and (self.n_layers is None or int(m.group(1)) < self.n_layers):
                return None
        if pat is not None:
            return f"transformers' {self.cls} drops it on load (_keys_to_ignore_on_load_unexpected {pat!r})"
        return "no module of the architecture takes it (not among the modules config.json describes)"

    def record(self, name: str, numel: int, why: str) -> None:
        key = _INDEX_RE.sub("#", name)
        g = self.groups.setdefault(key, [0, 0, why])
        g[0] += 1
        g[1] += numel
