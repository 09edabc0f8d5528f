"""Model mentions: the shipped vocabulary, word-boundary matching, user lists."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from forumkit.errors import UsageError
from forumkit.collect.mentions import ModelVocabulary

from .conftest import needs_saner2024

SHARED_TYPES = Path(__file__).resolve().parents[2] / "shared" / "data" / "saner2024" / "Hub_Model_Types_Over_Time_Created.csv"


@pytest.fixture(scope="module")
def vocab() -> ModelVocabulary:
    return ModelVocabulary.default()


def find(text: str) -> dict[str, int]:
    return ModelVocabulary.default().find(text)


# -- the shipped vocabulary ---------------------------------------------------


def test_default_is_cached_and_has_the_hub_types(vocab):
    assert ModelVocabulary.default() is vocab
    assert len(vocab.models) == len(set(vocab.models)) == 177
    assert vocab.models[:4] == ("bert", "gpt2", "distilbert", "roberta")
    for added in ("mistral", "mixtral", "falcon", "gemma", "qwen2", "stable-diffusion"):
        assert added in vocab.models


@needs_saner2024
def test_default_covers_every_type_of_the_saner_list(vocab):
    with SHARED_TYPES.open(newline="") as f:
        types = [row[0] for row in csv.reader(f) if row and row[0] and row[0] != "SUM"]
    assert len(types) == 171
    assert set(types) <= set(vocab.models)


def test_shipped_csv_is_well_formed():
    path = Path(__file__).resolve().parents[1] / "forumkit" / "data" / "model_vocabulary.csv"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    assert list(rows[0]) == ["model", "aliases", "case_sensitive"]
    assert {r["case_sensitive"] for r in rows} == {"true", "false"}
    assert ModelVocabulary.from_file(path).models == ModelVocabulary.default().models


# -- checkpoint names, longest match --------------------------------------------


def test_checkpoint_names_count_for_their_type():
    assert find("I fine-tuned bert-base-uncased, gpt2-medium and t5-small.") == {"bert": 1, "gpt2": 1, "t5": 1}
    assert find("Summaries from facebook/bart-large-cnn and google/flan-t5-base") == {"bart": 1, "t5": 1}
    assert find("openai/whisper-large-v2 vs facebook/wav2vec2-base-960h") == {"whisper": 1, "wav2vec2": 1}


def test_longest_match_wins_without_double_counting():
    assert find("distilbert-base-uncased") == {"distilbert": 1}
    assert find("xlm-roberta-base") == {"xlm-roberta": 1}
    assert find("xlm-roberta-xl and facebook/xlm-roberta-xxl") == {"xlm-roberta-xl": 2}
    assert find("roberta-prelayernorm, roberta-base") == {"roberta-prelayernorm": 1, "roberta": 1}
    assert find("google/long-t5-tglobal-base and mt5-small") == {"longt5": 1, "mt5": 1}
    assert find("wav2vec2-conformer-rel-pos-large") == {"wav2vec2-conformer": 1}
    assert find("deberta-v3-base, deberta-base") == {"deberta-v2": 1, "deberta": 1}
    assert find("facebook/nllb-200-distilled-600M vs nllb-moe") == {"m2m_100": 1, "nllb-moe": 1}


def test_counts_every_mention_in_order_of_first_mention():
    found = find("T5 beats BERT? bert-large vs t5-large vs Bert vs GPT-2")
    assert found == {"t5": 2, "bert": 3, "gpt2": 1}
    assert list(found) == ["t5", "bert", "gpt2"]


# -- boundaries -------------------------------------------------------------------


def test_punctuation_is_a_boundary():
    assert find("BERT's tokenizer (gpt2) vs t5, [llama]; \"roberta\" and whisper.") == {
        "bert": 1, "gpt2": 1, "t5": 1, "llama": 1, "roberta": 1, "whisper": 1,
    }


def test_urls_and_paths_count():
    text = (
        "https://huggingface.co/bert-base-uncased and "
        "https://huggingface.co/docs/transformers/model_doc/t5#transformers.T5Model and models/gpt2/config.json"
    )
    assert find(text) == {"bert": 1, "t5": 2, "gpt2": 1}


def test_no_false_positives_in_ordinary_words():
    text = (
        "A bitter, aligned clipboard on github and GitHub; Albert opted for the options, OPTIONAL, "
        "Roberts and Robertson swing into activity, a sample with samples, bits of vitamins, "
        "detrimental clapping, a git commit, clip the gradients, align the tokens, a canine, a funnel, "
        "a splinter, mega thanks, Sam and sam, a van, NAT traversal, it led to, "
        "Ctrl+C, speech to text, codegen tools, bloomberg, t50, gpt25, mt5x, optimum, ALBERTA, BERTopic"
    )
    assert find(text) == {}


def test_usernames_are_not_models():
    assert find("@bert thanks, and @t5-fan too; email bert@example.com") == {}


def test_letters_around_a_name_are_not_boundaries_even_non_ascii():
    assert find("Hébert, bertø, ßbert, xbert, bert2bert") == {}


def test_camel_case_class_names():
    text = (
        "BertModel, TFBertModel, GPT2LMHeadModel, CLIPModel, T5ForConditionalGeneration, "
        "DistilBertForSequenceClassification, XLMRobertaTokenizer, Wav2Vec2ForCTC, SciBERT"
    )
    assert find(text) == {"bert": 3, "gpt2": 1, "clip": 1, "t5": 1, "distilbert": 1, "xlm-roberta": 1, "wav2vec2": 1}


# -- spellings --------------------------------------------------------------------


def test_spelling_variants():
    text = (
        "GPT-2, gpt 2, GPT2; wav2vec 2.0 and Wav2Vec2; XLM-R, XLM-RoBERTa, xlm_roberta; "
        "GPT-NeoX, gpt_neox, gptneox; stable diffusion, Stable-Diffusion, stable\ndiffusion, SDXL; "
        "Llama-2-7b, llama2, LLaMA; Nyströmformer"
    )
    assert find(text) == {
        "gpt2": 3, "wav2vec2": 2, "xlm-roberta": 3, "gpt_neox": 3, "stable-diffusion": 4, "llama": 3,
        "nystromformer": 1,
    }


def test_case_sensitive_types_match_their_usual_spelling_only():
    assert find("CLIP and GIT and ALIGN and BiT and OPT and SAM and ALBERT") == {
        "clip": 1, "git": 1, "align": 1, "bit": 1, "opt": 1, "sam": 1, "albert": 1,
    }
    assert find("openai/clip-vit-base-patch32, microsoft/git-base, facebook/opt-350m, albert-base-v2") == {
        "clip": 1, "git": 1, "opt": 1, "albert": 1,
    }


def test_case_sensitive_and_insensitive_spellings_do_not_overlap():
    assert find("Chinese-CLIP vs CLIP, BLIP-2 vs BLIP, CLIPSeg, SEW-D vs SEW") == {
        "chinese_clip": 1, "clip": 1, "blip-2": 1, "blip": 1, "clipseg": 1, "sew-d": 1, "sew": 1,
    }


def test_empty_text(vocab):
    assert vocab.find("") == {}
    assert vocab.find("nothing to see here") == {}


def test_fast_path_agrees_with_the_plain_scan(vocab):
    """find() prefilters candidates; the result must equal a plain scan with the exact rules."""
    surfaces = ["bert", "BERT", "distilbert", "xlm-roberta", "gpt2", "GPT-2", "t5", "CLIP", "clip", "GIT", "Chinese-CLIP",
                "roberta", "opt-350m", "OPT", "Model", "For", "TF", "stable diffusion", "wav2vec 2.0", "é", "@", "_"]
    seps = [" ", "-", "", "_", "/", ", ", "\n"]
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(surfaces) + rng.choice(seps) for _ in range(rng.randint(1, 8)))
        assert vocab._matches(text) == vocab._matches_slow(text), text


# -- user lists -------------------------------------------------------------------


def test_plain_text_list(tmp_path):
    path = tmp_path / "models.txt"
    path.write_text("# my models\nPhi-2\n\n  my-model  \nllama\n", encoding="utf-8")
    user = ModelVocabulary.from_file(path)
    assert user.models == ("Phi-2", "my-model", "llama")
    assert user.find("phi-2 or MY-MODEL? my-model-v2 and my_model") == {"Phi-2": 1, "my-model": 2}


def test_csv_list(tmp_path):
    path = tmp_path / "models.csv"
    path.write_text(
        "# comment\nmodel,aliases,case_sensitive\n"
        "phi,phi-1|phi-2| phi 1.5 ,false\n"
        "Pythia,Pythia|pythia-70m,TRUE\n"
        '"yi","Yi-6B|Yi-34B",true\n',
        encoding="utf-8",
    )
    user = ModelVocabulary.from_file(str(path))
    assert user.models == ("phi", "Pythia", "yi")
    assert user.find("PHI-2 and phi 1.5, Pythia, pythia-70m, PYTHIA, pythia, Yi-6B, yi") == {
        "phi": 2, "Pythia": 2, "yi": 1,
    }


def test_csv_columns_in_any_order(tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("case_sensitive,model,aliases\nfalse,phi,phi-2\n", encoding="utf-8")
    assert ModelVocabulary.from_file(path).find("phi-2") == {"phi": 1}


def test_extended_adds_a_user_list_to_the_default(tmp_path, vocab):
    path = tmp_path / "models.txt"
    path.write_text("phi\nbert\n", encoding="utf-8")
    both = vocab.extended(ModelVocabulary.from_file(path))
    assert both.models == (*vocab.models, "phi")
    assert both.find("phi and bert-base-uncased and gpt2") == {"phi": 1, "bert": 1, "gpt2": 1}
    assert vocab.find("phi") == {}  # the default is unchanged


def test_extended_user_spelling_wins(tmp_path, vocab):
    path = tmp_path / "models.csv"
    path.write_text("model,aliases,case_sensitive\nmy-gpt,gpt-2,false\n", encoding="utf-8")
    both = vocab.extended(ModelVocabulary.from_file(path))
    assert both.find("gpt-2 and gpt2") == {"my-gpt": 1, "gpt2": 1}


# -- malformed user lists ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        ("model,aliases\nbert,\n", 1, "missing column 'case_sensitive'"),
        ("model,aliases,case_sensitive,notes\nbert,,false,x\n", 1, "unknown column 'notes'"),
        ("model,aliases,case_sensitive\nbert,bert-base\n", 2, "expected 3 columns"),
        ("model,aliases,case_sensitive\nbert,,false,extra\n", 2, "expected 3 columns"),
        ("# models\nmodel,aliases,case_sensitive\n\n,foo,false\n", 4, "empty model name"),
        ("model,aliases,case_sensitive\nbert,,maybe\n", 2, "case_sensitive must be true or false"),
        ("model,aliases,case_sensitive\nbert,---,false\n", 2, "has no letter or digit"),
        ("model,aliases,case_sensitive\nbert,bert2,false\nroberta,Bert2,false\n", 3, "already names 'bert'"),
        ("bert\nroberta,distilroberta\n", 2, "has commas"),
    ],
)
def test_malformed_list_raises_usage_error_naming_file_and_line(tmp_path, content, line, what):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        ModelVocabulary.from_file(path)
    message = info.value.one_line()
    assert f"{path}, line {line}: " in message
    assert what in message
    assert "\n" not in message
    assert info.value.hint


def test_unreadable_or_empty_list_raises_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read model list .*missing.txt"):
        ModelVocabulary.from_file(tmp_path / "missing.txt")
    with pytest.raises(UsageError, match="cannot read model list"):
        ModelVocabulary.from_file(tmp_path)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bert\xff")
    with pytest.raises(UsageError, match="cannot read model list .*binary.txt"):
        ModelVocabulary.from_file(binary)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(UsageError, match="names no models"):
        ModelVocabulary.from_file(empty)
