"""Generate realistic Hub model records, as ``/api/models?full=true&config=true&cardData=true`` serves them.

The records follow the shapes of ``shared/notes/hub-api.md`` §3: ``_id`` (an
ObjectId whose first bytes are the creation time), ``id`` "org/name",
``author``, ``sha``, ``lastModified`` >= the true creation time, ``createdAt``
(the placeholder ``2022-03-02T23:29:04.000Z`` for a share of the models
created before March 2022, as the real Hub gives all of them: the fake keeps
the true date for the rest, so that charts from it span the whole period),
``private``, ``gated``, ``disabled``, ``likes``, ``trendingScore``,
``downloads``, ``tags`` (library, framework, model type, task, languages,
``dataset:``, ``license:``, ``region:us``...), ``pipeline_tag`` and
``library_name`` (left out when the model has none), ``modelId``,
``siblings``, ``config`` (``{model_type, architectures}`` for most
transformers models; other libraries have other configs or none) and
``cardData`` for a share of the models that grows over time, with richer
cards later on (license, language, datasets, base_model, metrics,
model-index).

Creation times grow month after month (about 40 times more models in the
last month than in the first). Model types are the Hub model types of
``forumkit/data/model_vocabulary.csv`` (the SANER 2024 snapshot's types, in
its order of frequency), weighted by rank like the real Hub (bert, gpt2,
distilbert, roberta, t5, ...), newer families only after their release.
"""

from __future__ import annotations

import bisect
import csv
import math
import random
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

PLACEHOLDER = "2022-03-02T23:29:04.000Z"
PLACEHOLDER_TS = datetime(2022, 3, 2, 23, 29, 4, tzinfo=timezone.utc).timestamp()
VOCABULARY = Path(__file__).resolve().parents[2] / "data" / "model_vocabulary.csv"

#: Families that did not exist before these months: not drawn for models created earlier.
RELEASED = {"gpt2": "2019-02", "distilbert": "2019-08", "roberta": "2019-07", "t5": "2019-10", "bart": "2019-10",
            "xlm-roberta": "2019-11", "electra": "2020-03", "marian": "2020-05", "longformer": "2020-04",
            "mbart": "2020-06", "pegasus": "2020-06", "wav2vec2": "2020-09", "deberta": "2020-10",
            "vit": "2020-12", "mt5": "2020-11", "deberta-v2": "2021-02", "gpt_neo": "2021-03", "swin": "2021-05",
            "gptj": "2021-06", "hubert": "2021-06", "segformer": "2021-10", "gpt_neox": "2022-02",
            "opt": "2022-05", "bloom": "2022-07", "whisper": "2022-09", "gpt_bigcode": "2023-04",
            "llama": "2023-02", "falcon": "2023-05", "mistral": "2023-09", "mixtral": "2023-12",
            "gemma": "2024-02", "qwen2": "2024-06", "blip-2": "2023-01", "sam": "2023-04", "open-llama": "2023-05"}
#: Families that took off after release: their weight is multiplied from then on.
BOOM = {"llama": 12.0, "falcon": 3.0, "whisper": 3.0, "bloom": 2.0, "gpt_neox": 2.0, "mistral": 6.0}
NOT_A_CONFIG_TYPE = {"stable-diffusion"}

ENCODERS = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "albert", "mpnet", "deberta-v2", "camembert",
            "deberta", "longformer", "mobilebert", "xlnet", "big_bird", "flaubert", "ernie", "convbert",
            "megatron-bert", "funnel", "roformer", "squeezebert", "rembert", "ibert", "nezha", "canine", "luke",
            "esm", "xlm-roberta-xl", "roberta-prelayernorm", "xmod", "data2vec-text", "nystromformer", "yoso",
            "fnet", "splinter", "markuplm", "roc_bert", "ernie_m", "xlm", "layoutlm", "layoutlmv2", "layoutlmv3",
            "lilt", "tapas", "dpr", "retribert", "bert-generation"}
DECODERS = {"gpt2", "llama", "gpt_neox", "gpt_neo", "opt", "bloom", "gptj", "codegen", "xglm", "gpt_bigcode",
            "biogpt", "ctrl", "openai-gpt", "transfo-xl", "mistral", "mixtral", "falcon", "gemma", "qwen2",
            "open-llama", "gpt_neox_japanese", "gptsan-japanese", "reformer", "cpmant", "mega", "imagegpt"}
SEQ2SEQ = {"t5", "bart", "marian", "mt5", "mbart", "pegasus", "m2m_100", "led", "longt5", "plbart", "blenderbot",
           "fsmt", "bigbird_pegasus", "pegasus_x", "mvp", "switch_transformers", "prophetnet", "xlm-prophetnet",
           "blenderbot-small", "nllb-moe"}
SPEECH = {"wav2vec2", "whisper", "hubert", "unispeech", "wavlm", "speecht5", "unispeech-sat", "data2vec-audio",
          "wav2vec2-conformer", "sew", "sew-d", "speech_to_text", "mctct", "audio-spectrogram-transformer"}
VISION = {"vit", "swin", "resnet", "convnext", "beit", "mobilevit", "regnet", "swinv2", "deit", "levit",
          "efficientnet", "convnextv2", "cvt", "van", "bit", "dinat", "nat", "focalnet", "poolformer",
          "efficientformer", "mobilenet_v1", "mobilenet_v2", "vit_mae", "vit_msn", "data2vec-vision", "glpn",
          "dpt"}
DETECTION = {"detr", "yolos", "conditional_detr", "deformable_detr", "deta", "owlvit", "table-transformer"}
SEGMENTATION = {"segformer", "mask2former", "maskformer", "oneformer", "sam", "clipseg"}

TASKS = {
    "enc": [("text-classification", 40), ("token-classification", 18), ("fill-mask", 14),
            ("question-answering", 10), ("feature-extraction", 8), ("sentence-similarity", 6),
            ("zero-shot-classification", 4)],
    "dec": [("text-generation", 1)],
    "s2s": [("text2text-generation", 45), ("translation", 30), ("summarization", 25)],
    "speech": [("automatic-speech-recognition", 80), ("audio-classification", 20)],
    "vision": [("image-classification", 1)],
    "det": [("object-detection", 1)],
    "seg": [("image-segmentation", 1)],
    "other": [("feature-extraction", 50), ("image-to-text", 20), ("zero-shot-image-classification", 15),
              ("video-classification", 15)],
}
HEADS = {"text-classification": "ForSequenceClassification", "token-classification": "ForTokenClassification",
         "fill-mask": "ForMaskedLM", "question-answering": "ForQuestionAnswering", "feature-extraction": "Model",
         "sentence-similarity": "Model", "zero-shot-classification": "ForSequenceClassification",
         "text-generation": "ForCausalLM", "text2text-generation": "ForConditionalGeneration",
         "translation": "ForConditionalGeneration", "summarization": "ForConditionalGeneration",
         "automatic-speech-recognition": "ForCTC", "audio-classification": "ForSequenceClassification",
         "image-classification": "ForImageClassification", "object-detection": "ForObjectDetection",
         "image-segmentation": "ForSemanticSegmentation", "image-to-text": "ForConditionalGeneration",
         "zero-shot-image-classification": "Model", "video-classification": "ForVideoClassification"}
CLASS_NAMES = {"bert": "Bert", "distilbert": "DistilBert", "xlnet": "XLNet", "gpt2": "GPT2", "t5": "T5", "mt5": "MT5",
               "xlm-roberta": "XLMRoberta",
               "gpt_neox": "GPTNeoX", "gpt_neo": "GPTNeo", "gptj": "GPTJ", "opt": "OPT", "deberta-v2": "DebertaV2",
               "wav2vec2": "Wav2Vec2", "vit": "ViT", "mbart": "MBart", "m2m_100": "M2M100", "led": "LED",
               "llama": "Llama", "marian": "Marian", "bloom": "Bloom", "gpt_bigcode": "GPTBigCode"}
LIBRARIES = [  # (library, weight, available from YYYY-MM)
    ("transformers", 72, "2019-01"), ("sentence-transformers", 5, "2019-08"), ("diffusers", 6, "2022-08"),
    ("peft", 8, "2023-02"), ("timm", 2, "2019-01"), ("stable-baselines3", 3, "2021-05"), ("ml-agents", 1, "2022-10"),
    ("keras", 2, "2019-01"), ("speechbrain", 1, "2021-03"), ("espnet", 1, "2021-03"), ("fairseq", 1, "2019-01"),
    ("spacy", 1, "2021-06"), ("flair", 1, "2019-01"), (None, 4, "2019-01"),
]
LICENSES = [("apache-2.0", 35), ("mit", 25), ("cc-by-4.0", 7), ("cc-by-nc-4.0", 6), ("openrail", 5),
            ("creativeml-openrail-m", 4), ("other", 6), ("gpl-3.0", 3), ("cc-by-sa-4.0", 3), ("bsd-3-clause", 2),
            ("afl-3.0", 2), ("unknown", 2)]
LANGUAGES = [("en", 60), ("zh", 6), ("fr", 5), ("de", 5), ("es", 5), ("ru", 3), ("ja", 3), ("ar", 3), ("ko", 2),
             ("hi", 2), ("pt", 2), ("it", 2), ("vi", 1), ("id", 1), ("multilingual", 2)]
DATASETS = ["imdb", "glue", "squad", "squad_v2", "conll2003", "wikitext", "common_voice", "librispeech_asr",
            "cnn_dailymail", "xsum", "emotion", "tweet_eval", "amazon_polarity", "yelp_review_full", "ag_news",
            "imagenet-1k", "cifar10", "mozilla-foundation/common_voice_11_0", "wmt16", "opus_books", "samsum",
            "tatsu-lab/alpaca", "OpenAssistant/oasst1", "timdettmers/openassistant-guanaco", "beans", "food101"]
METRICS = {"enc": ["accuracy", "f1", "precision", "recall"], "s2s": ["rouge", "bleu"], "speech": ["wer"],
           "dec": ["perplexity", "accuracy"], "vision": ["accuracy"], "det": ["map"], "seg": ["mean_iou"],
           "other": ["accuracy"]}
ORGS = ["google", "facebook", "microsoft", "openai-community", "huggingface", "Helsinki-NLP", "sentence-transformers",
        "stabilityai", "meta-llama", "TheBloke", "EleutherAI", "bigscience", "allenai", "nvidia", "deepset",
        "cardiffnlp", "distilbert", "FacebookAI", "jonatasgrosman", "dbmdz", "uer", "nlpaueb", "csebuetnlp",
        "timm", "runwayml", "tiiuae", "mistralai", "Salesforce", "laion", "openai"]
SYLLABLES = ["ka", "ri", "no", "mi", "ta", "lo", "ve", "sa", "den", "jo", "an", "el", "ix", "ou", "ar", "zen",
             "pa", "ti", "mo", "ru", "ko", "li", "na", "be", "dra", "gon", "fi", "lu", "xe", "ya"]
WORDS = ["finetuned", "sentiment", "ner", "squad", "imdb", "base", "large", "small", "tiny", "v2", "lora", "chat",
         "instruct", "qa", "summarizer", "translator", "emotion", "news", "medical", "legal", "code", "asr", "demo",
         "test", "custom", "distilled", "multilingual", "uncased", "cased", "pruned", "quantized", "gguf", "awq"]


@lru_cache(maxsize=1)
def model_types() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The Hub model types of the shipped vocabulary and their base weights (Zipf on the file's order)."""
    lines = [line for line in VOCABULARY.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    names = [row["model"] for row in csv.DictReader(lines) if row["model"] not in NOT_A_CONFIG_TYPE]
    return tuple(names), tuple(1.0 / (rank + 1) ** 1.15 for rank in range(len(names)))


def family(model_type: str) -> str:
    for name, members in (("enc", ENCODERS), ("dec", DECODERS), ("s2s", SEQ2SEQ), ("speech", SPEECH),
                          ("det", DETECTION), ("seg", SEGMENTATION), ("vision", VISION)):
        if model_type in members:
            return name
    return "other"


def class_name(model_type: str) -> str:
    return CLASS_NAMES.get(model_type) or "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_]", model_type))


def iso_ms(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _month_start(year: int, month: int) -> float:
    return datetime(year, month, 1, tzinfo=timezone.utc).timestamp()


def _months(start: str, end: str) -> list[tuple[float, float, str]]:
    """(start ts, end ts, 'YYYY-MM') of every month from start to end, both included."""
    y, m = (int(x) for x in start.split("-")[:2])
    ey, em = (int(x) for x in end.split("-")[:2])
    out = []
    while (y, m) <= (ey, em):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append((_month_start(y, m), _month_start(ny, nm), f"{y:04d}-{m:02d}"))
        y, m = ny, nm
    if not out:
        raise ValueError(f"no month from {start} to {end}")
    return out


class _Picker:
    """Weighted choice by bisection on cumulative weights (fast for repeated draws)."""

    def __init__(self, items: list, weights: list[float]) -> None:
        self.items = items
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _picker(pairs: list[tuple]) -> _Picker:
    return _Picker([p[0] for p in pairs], [p[1] for p in pairs])


def generate_models(n: int, seed: int = 0, start: str = "2019-01", end: str = "2023-06", *,
                    placeholder_share: float = 0.6) -> list[dict]:
    """``n`` model records created from ``start`` to ``end`` (months, both included), oldest first.

    ``placeholder_share`` of the models created before 2022-03-02T23:29:04Z get that placeholder
    as ``createdAt``. Deterministic for a given seed.
    """
    rng = random.Random(seed)
    months = _months(start, end)
    growth = math.log(40.0) / max(1, len(months) - 1)
    month_pick = _Picker(list(range(len(months))), [math.exp(growth * i) for i in range(len(months))])
    t0, t1 = months[0][0], months[-1][1]
    created_times = sorted(months[i][0] + rng.random() * (months[i][1] - months[i][0])
                           for i in (month_pick(rng) for _ in range(n)))
    names, base_weights = model_types()
    type_pickers: dict[str, _Picker] = {}
    library_pickers: dict[str, _Picker] = {}
    license_pick, language_pick = _picker(LICENSES), _picker(LANGUAGES)
    n_authors = max(12, n // 5)
    authors = ORGS + [_username(rng, i) for i in range(max(0, n_authors - len(ORGS)))]
    used_ids: set[str] = set()
    by_type: dict[str, list[str]] = {}  # earlier model ids of each type: base models of later ones
    counter = rng.getrandbits(40)
    records = []
    for created in created_times:
        if PLACEHOLDER_TS - 4 <= created < PLACEHOLDER_TS + 56:  # the placeholder's minute: not a real date
            created += 60.0
        month = iso_ms(created)[:7]
        progress = (created - t0) / (t1 - t0)
        if month not in library_pickers:
            library_pickers[month] = _picker([(lib, w) for lib, w, since in LIBRARIES if since <= month])
            weights = []
            for name, w in zip(names, base_weights):
                released = RELEASED.get(name, "0000-00")
                weights.append(0.0 if released > month else w * (BOOM.get(name, 1.0) if released >= "2022-01" else 1.0))
            type_pickers[month] = _Picker(list(names), weights)
        library = library_pickers[month](rng)
        model_type = None
        if library in ("transformers", "sentence-transformers"):
            model_type = type_pickers[month](rng)
            if library == "sentence-transformers" and family(model_type) != "enc":
                model_type = "mpnet" if rng.random() < 0.5 else "bert"
        elif library == "peft":
            model_type = rng.choice([t for t in ("llama", "falcon", "gpt_neox", "opt", "bloom")
                                     if RELEASED[t] <= month])
        records.append(_model(rng, created, month, progress, library, model_type, authors, used_ids, by_type,
                              license_pick, language_pick, counter, placeholder_share, t1))
        counter += 1
    return records


def _username(rng: random.Random, i: int) -> str:
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    style = rng.random()
    if style < 0.3:
        return f"{name}{rng.randint(1, 999)}"
    if style < 0.45:
        return name.capitalize() + "-" + rng.choice(["AI", "Lab", "NLP", "Research", "ML"])
    return f"{name}{i}" if rng.random() < 0.2 else name


def _task(rng: random.Random, library: str | None, model_type: str | None) -> str | None:
    if library == "sentence-transformers":
        return "sentence-similarity"
    if library == "diffusers":
        return "text-to-image" if rng.random() < 0.9 else "image-to-image"
    if library == "peft":
        return "text-generation" if rng.random() < 0.8 else None
    if library in ("stable-baselines3", "ml-agents"):
        return "reinforcement-learning"
    if library in ("timm", "keras"):
        return "image-classification" if rng.random() < 0.7 else None
    if library in ("speechbrain", "espnet", "fairseq"):
        return rng.choice(["automatic-speech-recognition", "text-to-speech", "translation"])
    if library in ("spacy", "flair"):
        return "token-classification"
    if model_type is None or rng.random() < 0.08:
        return None
    if model_type == "marian":
        return "translation"
    if model_type == "whisper":
        return "automatic-speech-recognition"
    return _picker(TASKS[family(model_type)])(rng)


def _model(rng: random.Random, created: float, month: str, progress: float, library: str | None,
           model_type: str | None, authors: list[str], used_ids: set[str], by_type: dict[str, list[str]],
           license_pick: _Picker, language_pick: _Picker, counter: int, placeholder_share: float,
           period_end: float) -> dict:
    author = authors[int(len(authors) * rng.random() ** 2.2)]
    if model_type == "marian" and rng.random() < 0.6:
        author = "Helsinki-NLP"
    task = _task(rng, library, model_type)
    stem = (model_type or library or "model").replace("_", "-")
    parts = [stem] + rng.sample(WORDS, rng.randint(1, 3))
    name = "-".join(parts)
    model_id = f"{author}/{name}"
    while model_id in used_ids:
        model_id = f"{author}/{name}-{rng.randint(2, 99999)}"
    used_ids.add(model_id)

    # lastModified: often minutes after creation, else days to months later (never past the period)
    roll = rng.random()
    if roll < 0.5:
        delay = rng.uniform(1, 3600)
    elif roll < 0.8:
        delay = rng.uniform(3600, 60 * 86400)
    else:
        delay = rng.uniform(0, period_end - created)
    modified = created + delay if created + delay < period_end else created + rng.random() * (period_end - created)
    created_at = PLACEHOLDER if created < PLACEHOLDER_TS and rng.random() < placeholder_share else iso_ms(created)

    card = _card(rng, month, progress, library, model_type, task, name, license_pick, language_pick, by_type)
    license_ = card.get("license") if card else None
    if card is None and rng.random() < 0.1:
        license_ = license_pick(rng)
    languages = card.get("language", []) if card else []
    languages = [languages] if isinstance(languages, str) else languages
    datasets = card.get("datasets", []) if card else []
    datasets = [datasets] if isinstance(datasets, str) else datasets

    config = None
    if library in ("transformers", "sentence-transformers") and model_type and rng.random() < 0.97:
        config = {"architectures": [class_name(model_type) + HEADS.get(task or "feature-extraction", "Model")],
                  "model_type": model_type}
    elif library == "diffusers":
        config = {"diffusers": {"_class_name": "StableDiffusionPipeline"}}
    elif library == "timm":
        config = {"architecture": rng.choice(["resnet50", "vit_base_patch16_224", "efficientnet_b0"]),
                  "num_classes": rng.choice([2, 10, 1000])}
    elif library == "peft" and card and card.get("base_model"):
        config = {"peft": {"base_model_name_or_path": card["base_model"], "task_type": "CAUSAL_LM"}}

    frameworks = ["pytorch"] if library in ("transformers", "sentence-transformers", "timm", "peft") else []
    if library == "transformers" and rng.random() < 0.25:
        frameworks.append(rng.choice(["tf", "jax"]))
    if month >= "2022-10" and library in ("transformers", "sentence-transformers", "diffusers", "timm"):
        frameworks.append("safetensors")
    tags = [t for t in [library, *frameworks, model_type, task, *languages, *(f"dataset:{d}" for d in datasets)]
            if t]
    if card and card.get("tags"):
        tags += card["tags"]
    if card and card.get("base_model"):
        bases = card["base_model"] if isinstance(card["base_model"], list) else [card["base_model"]]
        tags += [f"base_model:{b}" for b in bases]
    if license_:
        tags.append(f"license:{license_}")
    if task == "text-generation":
        tags.append("autotrain_compatible")
    if library == "transformers":
        tags.append("endpoints_compatible")
    tags.append("region:us")
    tags = list(dict.fromkeys(tags))

    files = [".gitattributes"] + (["README.md"] if card else []) + (["config.json"] if config else [])
    files.append({"transformers": "pytorch_model.bin", "sentence-transformers": "pytorch_model.bin",
                  "diffusers": "model_index.json", "peft": "adapter_model.bin", "timm": "pytorch_model.bin",
                  "keras": "saved_model.pb", "stable-baselines3": "model.zip"}.get(library or "", "model.pt"))
    if "safetensors" in frameworks:
        files.append("model.safetensors")

    age = max(0.0, 1.0 - progress)
    record: dict = {
        "_id": f"{int(created):08x}{counter & 0xFFFFFFFFFFFFFFFF:016x}",
        "id": model_id,
        "author": author,
        "sha": f"{rng.getrandbits(160):040x}",
        "lastModified": iso_ms(modified),
        "private": False,
        "gated": False if rng.random() < 0.97 else rng.choice(["auto", "manual"]),
        "disabled": False,
        "likes": int(rng.lognormvariate(-0.6 + 1.2 * age, 1.6)),
        "trendingScore": int(rng.expovariate(1.0) * 3) if progress > 0.95 else 0,
        "downloads": int(rng.lognormvariate(2.0 + 2.0 * age, 2.4)),
        "tags": tags,
        "pipeline_tag": task,
        "library_name": library,
        "createdAt": created_at,
        "modelId": model_id,
        "siblings": [{"rfilename": f} for f in files],
        "cardData": card,
        "config": config,
    }
    for key in ("pipeline_tag", "library_name"):  # the Hub leaves these out when a repo has none
        if record[key] is None:
            del record[key]
    if card is None and rng.random() < 0.5:
        del record["cardData"]  # no README at all (the key absent) vs. a README without metadata (null)
    if config is None:
        del record["config"]
    if model_type:
        by_type.setdefault(model_type, [])
        if len(by_type[model_type]) < 30:
            by_type[model_type].append(model_id)
    return record


def _card(rng: random.Random, month: str, progress: float, library: str | None, model_type: str | None,
          task: str | None, name: str, license_pick: _Picker, language_pick: _Picker,
          by_type: dict[str, list[str]]) -> dict | None:
    """Card metadata: more models have a card, and richer ones, as time goes on."""
    if library not in ("diffusers", "peft") and rng.random() > 0.2 + 0.65 * progress:
        return None
    card: dict = {}
    if rng.random() < 0.45 + 0.45 * progress:
        card["license"] = license_pick(rng)
    if rng.random() < 0.35:
        langs = list(dict.fromkeys(language_pick(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))))
        card["language"] = langs[0] if len(langs) == 1 and rng.random() < 0.6 else langs
    if rng.random() < 0.25 + 0.2 * progress:
        sets = rng.sample(DATASETS, rng.choice([1, 1, 2]))
        card["datasets"] = sets[0] if rng.random() < 0.1 else sets
    if library == "transformers" and rng.random() < 0.4:
        card["tags"] = ["generated_from_trainer"]
    earlier = by_type.get(model_type or "", [])
    if (library == "peft" or month >= "2022-09") and earlier and (library == "peft" or rng.random() < 0.5):
        bases = rng.sample(earlier[:10], min(len(earlier[:10]), rng.choice([1, 1, 1, 1, 2])))
        card["base_model"] = bases[0] if len(bases) == 1 else bases
    fam = family(model_type) if model_type else "other"
    if rng.random() < 0.2:
        card["metrics"] = rng.sample(METRICS[fam], 1)
    if library == "transformers" and rng.random() < 0.2 + 0.2 * progress:
        metric = rng.choice(METRICS[fam])
        dataset = (card.get("datasets") or [rng.choice(DATASETS)])
        dataset = dataset if isinstance(dataset, str) else dataset[0]
        card["model-index"] = [{"name": name, "results": [{
            "task": {"type": task or "text-classification", "name": (task or "text-classification").replace("-", " ")},
            "dataset": {"type": dataset, "name": dataset},
            "metrics": [{"type": metric, "value": round(rng.uniform(0.3, 0.99), 4), "name": metric.title()}]}]}]
    if rng.random() < 0.5 and library:
        card["library_name"] = library
    if task and rng.random() < 0.3:
        card["pipeline_tag"] = task
    return card or None
