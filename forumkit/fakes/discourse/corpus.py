"""Vocabulary and templates for a Hugging Face-like forum.

Plain data, kept apart from the generator's logic. Templates are markdown in the
small dialect :mod:`.cook` understands, with ``{placeholders}`` the generator
fills; only these names are substituted, so other braces stay literal:
``{model}`` (a prose spelling such as "GPT-2" or "XLM-RoBERTa"), ``{ckpt}`` (a Hub
checkpoint), ``{ds}``, ``{gpu}``, ``{ver}``, ``{n}``, ``{bs}``, ``{mem}``,
``{chapter}``, ``{family}``, ``{staff}`` and ``{answerer}``. Models carry the month
they appeared, so that a 2021 topic never asks about Llama 2.
"""

from __future__ import annotations

from dataclasses import dataclass

#: (family tag, prose spellings, Hub checkpoints, first month it can appear)
MODELS: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    ("bert", ("BERT", "bert", "Bert"), ("bert-base-uncased", "bert-base-cased", "bert-large-uncased"), "2020-01"),
    ("gpt2", ("GPT-2", "gpt2", "GPT2"), ("gpt2", "gpt2-medium", "distilgpt2"), "2020-01"),
    ("t5", ("T5", "t5", "Flan-T5"), ("t5-small", "t5-base", "google/flan-t5-base"), "2020-01"),
    ("roberta", ("RoBERTa", "roberta", "Roberta"), ("roberta-base", "roberta-large"), "2020-01"),
    ("distilbert", ("DistilBERT", "distilbert"), ("distilbert-base-uncased",
     "distilbert-base-uncased-finetuned-sst-2-english"), "2020-01"),
    ("bart", ("BART", "bart"), ("facebook/bart-large-cnn", "facebook/bart-base"), "2020-01"),
    ("xlm-roberta", ("XLM-RoBERTa", "xlm-roberta", "XLM-R"), ("xlm-roberta-base", "xlm-roberta-large"), "2020-01"),
    ("wav2vec2", ("Wav2Vec2", "wav2vec2", "wav2vec 2.0"), ("facebook/wav2vec2-base-960h",
     "facebook/wav2vec2-large-xlsr-53"), "2020-01"),
    ("vit", ("ViT", "vit", "Vision Transformer"), ("google/vit-base-patch16-224",), "2021-01"),
    ("deberta", ("DeBERTa", "deberta-v3"), ("microsoft/deberta-v3-base",), "2021-03"),
    ("clip", ("CLIP", "clip"), ("openai/clip-vit-base-patch32",), "2021-03"),
    ("camembert", ("CamemBERT", "camembert"), ("camembert-base",), "2020-01"),
    ("bloom", ("BLOOM", "bloom"), ("bigscience/bloom-560m", "bigscience/bloomz-1b1"), "2022-07"),
    ("stable-diffusion", ("Stable Diffusion", "stable diffusion", "SD 1.5"),
     ("runwayml/stable-diffusion-v1-5", "stabilityai/stable-diffusion-2-1"), "2022-08"),
    ("whisper", ("Whisper", "whisper"), ("openai/whisper-small", "openai/whisper-large-v2"), "2022-09"),
    ("llama", ("LLaMA", "Llama 2", "llama"), ("huggyllama/llama-7b", "meta-llama/Llama-2-7b-hf"), "2023-03"),
    ("falcon", ("Falcon", "falcon-7b"), ("tiiuae/falcon-7b-instruct",), "2023-05"),
]

DATASETS = ("imdb", "squad", "glue", "wikitext", "cnn_dailymail", "common_voice", "emotion", "conll2003",
            "mozilla-foundation/common_voice_11_0", "oscar", "c4", "samsum", "xsum", "lambada")
GPUS = ("a single RTX 3090", "a T4 on Colab", "an A100 40GB", "a V100 16GB", "2x RTX 2080 Ti", "an M1 Mac",
        "a K80 on Kaggle", "4x A10G", "my laptop's GTX 1650")
VERSIONS = ("4.12.5", "4.18.0", "4.21.1", "4.24.0", "4.26.1", "4.28.1", "4.30.2")

FIRST_NAMES = ("Anna", "Pierre", "Sofía", "Ravi", "Mei", "Lukas", "Aisha", "Tomás", "Yuki", "Olga", "Chen", "Fatima",
               "Jonas", "Zoë", "Mateo", "Priya", "Hiroshi", "Ingrid", "Kwame", "Léa", "Dmitri", "Nour", "Emeka",
               "Sara", "Björn", "Ana", "Wei", "Jakub", "Camille", "Arjun", "Hana", "Diego", "Elif", "Noah", "Min-jun")
LAST_NAMES = ("Müller", "Dubois", "García", "Sharma", "Wang", "Kowalski", "Tanaka", "Silva", "Ivanova", "Okafor",
              "Rossi", "Nguyen", "Kim", "Öztürk", "Haddad", "Johansson", "Fernández", "Li", "Novak", "Smith",
              "Martin", "Gupta", "Sato", "Schmidt", "Moreau", "Costa", "Petrov", "Mensah", "Chen", "Lefèvre")
HANDLE_WORDS = ("nlp", "ml", "ai", "dev", "data", "research", "hf", "py", "deep", "bert", "tensor", "code")
#: Invented staff accounts: (username, display name, admin, moderator).
STAFF = [
    ("clemence", "Clémence R", True, False), ("tomasz-hf", "Tomasz W", True, True),
    ("yacine", "Yacine B", False, True), ("lucile", "Lucile S", False, True),
    ("benji-hf", "Benjamin A", False, True), ("ines-m", "Inès M", True, False),
]

#: (name, color, description, parent name or "", read restricted, weight for topics)
CATEGORIES: list[tuple[str, str, str, str, bool, float]] = [
    ("Uncategorized", "0088CC", "Topics that need no category, or do not fit any other.", "", False, 0.3),
    ("Beginners", "25AAE2", "Use this category for any basic question you have on any of the Hugging Face library. "
     "Don’t moderate yourself, everyone has to begin somewhere and everyone on this forum is here to help!",
     "", False, 6.0),
    ("Intermediate", "F7941D", "Use this category for any advanced question you have on any of the Hugging Face "
     "library or to share/coordinate with other users your projects using them.", "", False, 3.0),
    ("Research", "9EB83B", "Use this category to discuss research papers, ideas and results.", "", False, 1.0),
    ("🤗Transformers", "FFD21E", "This category is for any question specific to the 🤗Transformers library.",
     "", False, 6.0),
    ("🤗Datasets", "ED207B", "This category is for any question specific to the 🤗Datasets library.", "", False, 2.5),
    ("🤗Hub", "12A89D", "Questions about the Hub: repositories, model cards, uploads, organizations.", "", False, 1.8),
    ("Spaces", "652D90", "Questions and discussions about Spaces: Gradio, Streamlit and Docker apps.", "", False, 2.0),
    ("Models", "3AB54A", "Discussions about specific models on the Hub.", "", False, 1.5),
    ("Course", "B3B5B4", "Ask questions about the Hugging Face course here.", "", False, 0.6),
    ("Chapter 1", "B3B5B4", "Questions about chapter 1 of the course: Transformer models.", "Course", False, 0.5),
    ("Chapter 7", "B3B5B4", "Questions about chapter 7 of the course: main NLP tasks.", "Course", False, 0.4),
    ("Flax/JAX Projects", "0E76BD", "Coordinate community projects using Flax/JAX and TPUs.", "", False, 0.6),
    ("Amazon SageMaker", "F15A24", "Questions about training and deploying models with Amazon SageMaker.", "",
     False, 0.8),
    ("Site Feedback", "808281", "Discussion about this site, its organization, how it works, and how we can "
     "improve it.", "", False, 0.4),
    ("Staff", "E45735", "Private category for staff discussions. Only staff can see it.", "", True, 0.3),
]


@dataclass(frozen=True)
class Theme:
    """One recurring kind of question: where it is asked, how it is titled, asked and answered."""

    categories: tuple[str, ...]
    tags: tuple[str, ...]
    titles: tuple[str, ...]
    questions: tuple[str, ...]
    code: tuple[str, ...]
    errors: tuple[str, ...]
    answers: tuple[str, ...]
    fixes: tuple[str, ...] = ()
    #: The hf-challenges codes (forumkit/codebooks/hf-challenges.yaml) a topic of this theme should get:
    #: its category id, then a subcategory id where one clearly fits. Topic models and suggestion
    #: benchmarks read them from :meth:`FakeForum.ground_truth` as the planted answer.
    planted: tuple[str, ...] = ()


THEMES: list[Theme] = [
    Theme(
        ("🤗Transformers", "Beginners", "Intermediate"), ("transformers", "trainer"),
        ("CUDA out of memory when fine-tuning {model}", "RuntimeError: CUDA out of memory with {ckpt}",
         "OOM error fine-tuning {model} on {gpu}", "How to reduce GPU memory usage when training {model}?",
         "{model} fine-tuning runs out of memory after a few steps"),
        ("I am trying to fine-tune `{ckpt}` on {ds} with {gpu} but I keep getting a CUDA out of memory error, "
         "even with a batch size of {bs}.",
         "Hi everyone, I’m fine-tuning {model} with the `Trainer` and it crashes with OOM after {n} steps. "
         "Here is my code:"),
        ("from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments\n\n"
         "model = AutoModelForSequenceClassification.from_pretrained(\"{ckpt}\", num_labels=2)\n"
         "args = TrainingArguments(\"out\", per_device_train_batch_size={bs}, fp16=False)\n"
         "trainer = Trainer(model=model, args=args, train_dataset=ds[\"train\"])\n"
         "trainer.train()",),
        ("Traceback (most recent call last):\n  File \"train.py\", line 42, in <module>\n    trainer.train()\n"
         "RuntimeError: CUDA out of memory. Tried to allocate {mem}.00 MiB (GPU 0; 15.78 GiB total capacity; "
         "14.21 GiB already allocated; 3.75 MiB free; 14.45 GiB reserved in total by PyTorch)",),
        ("Try `gradient_accumulation_steps=8` with a smaller `per_device_train_batch_size`, and enable "
         "`fp16=True` (or `bf16=True` on Ampere GPUs). `gradient_checkpointing=True` also helps a lot.",
         "Your sequences are probably too long: truncate to `max_length=256` in the tokenizer. You can also "
         "use `optim=\"adafactor\"` to save optimizer memory."),
        ("args = TrainingArguments(\"out\", per_device_train_batch_size=2,\n"
         "                         gradient_accumulation_steps=8, fp16=True,\n"
         "                         gradient_checkpointing=True)",),
        planted=("CH.MEMORY_AND_PERFORMANCE", "CH.MEMORY_AND_PERFORMANCE.MEMORY"),
    ),
    Theme(
        ("Beginners", "🤗Transformers", "Course"), ("tokenizers", "transformers"),
        ("Tokenizer padding and truncation with {model}", "How do I pad a batch with the {model} tokenizer?",
         "ValueError: Unable to create tensor, you should probably activate truncation and/or padding",
         "Why does `{ckpt}` tokenizer add [PAD] tokens to the left?", "Tokenizer returns different lengths"),
        ("When I tokenize my texts with `AutoTokenizer.from_pretrained(\"{ckpt}\")` I get sequences of "
         "different lengths and `return_tensors=\"pt\"` fails.",
         "I don’t understand the difference between `padding=True` and `padding=\"max_length\"`. "
         "Which one should I use for {model}?"),
        ("from transformers import AutoTokenizer\n\ntok = AutoTokenizer.from_pretrained(\"{ckpt}\")\n"
         "batch = tok([\"Hello world\", \"A much longer sentence & more <tokens>\"], return_tensors=\"pt\")",),
        ("ValueError: Unable to create tensor, you should probably activate truncation and/or padding with "
         "'padding=True' 'truncation=True' to have batched tensors with the same length.",),
        ("Pass `padding=True, truncation=True` to the tokenizer call. For training it is usually better "
         "to pad dynamically with `DataCollatorWithPadding`.",
         "`padding=\"max_length\"` pads everything to `max_length`; `padding=True` pads to the longest "
         "sequence of the batch, which is faster. Decoder-only models like GPT-2 have no pad token: set "
         "`tok.pad_token = tok.eos_token`."),
        ("batch = tok(texts, padding=True, truncation=True, max_length=128, return_tensors=\"pt\")",),
        planted=("CH.TRAINING_PIPELINE", "CH.TRAINING_PIPELINE.TOKENIZATION"),
    ),
    Theme(
        ("Beginners", "🤗Transformers"), ("pipeline", "transformers"),
        ("pipeline() error with {ckpt}", "KeyError when loading {model} in a pipeline",
         "How to run the {model} pipeline on GPU?", "Pipeline returns wrong labels (LABEL_0, LABEL_1)",
         "Text generation pipeline with {model} repeats the same sentence"),
        ("I’m using `pipeline(\"text-classification\", model=\"{ckpt}\")` and it returns `LABEL_0` and "
         "`LABEL_1` instead of my label names.",
         "The pipeline works on CPU but when I pass `device=0` nothing happens, it is still slow."),
        ("from transformers import pipeline\n\nclf = pipeline(\"text-classification\", model=\"{ckpt}\", device=0)\n"
         "print(clf(\"I love this library!\"))",),
        ("KeyError: '{family}'\n\nDuring handling of the above exception, another exception occurred:\n\n"
         "ValueError: Unrecognized configuration class <class 'transformers.models.auto.configuration_auto."
         "AutoConfig'> for this kind of AutoModel",),
        ("Set `id2label` and `label2id` in the config before saving the model, the pipeline reads them.",
         "Upgrade transformers: `pip install -U transformers`. Support for {model} was added after {ver}."),
        ("model.config.id2label = {0: \"negative\", 1: \"positive\"}\n"
         "model.config.label2id = {\"negative\": 0, \"positive\": 1}",),
        planted=("CH.INFERENCE_AND_DEPLOYMENT", "CH.INFERENCE_AND_DEPLOYMENT.INFERENCE_PIPELINE"),
    ),
    Theme(
        ("🤗Datasets", "Beginners"), ("datasets",),
        ("Streaming {ds} with load_dataset is very slow", "load_dataset(\"{ds}\") fails with FileNotFoundError",
         "How to load a local CSV with 🤗Datasets?", "Dataset.map() with num_proc hangs",
         "Memory keeps growing when iterating a streaming dataset"),
        ("I’m loading `{ds}` with `streaming=True` and it takes forever to get the first examples.",
         "`load_dataset(\"{ds}\")` worked last week and now fails. Did something change on the Hub?"),
        ("from datasets import load_dataset\n\nds = load_dataset(\"{ds}\", split=\"train\", streaming=True)\n"
         "for example in ds.take(5):\n    print(example)",),
        ("FileNotFoundError: Couldn't find a dataset script at /content/{ds}/{ds}.py or any data file in the "
         "same directory.",
         "ConnectionError: Couldn't reach https://huggingface.co/datasets/{ds}/resolve/main/README.md "
         "(ReadTimeout)"),
        ("Try `pip install -U datasets`, the loading script was replaced by Parquet files on the Hub.",
         "With `num_proc` on macOS you need the `if __name__ == \"__main__\":` guard, otherwise workers "
         "re-import your script."),
        ("ds = load_dataset(\"csv\", data_files={\"train\": \"train.csv\", \"test\": \"test.csv\"})",),
        planted=("CH.DATASET_ACQUISITION_AND_USAGE", "CH.DATASET_ACQUISITION_AND_USAGE.LOADING_SAVING_DATASETS"),
    ),
    Theme(
        ("Spaces",), ("spaces", "gradio"),
        ("My Space is stuck on Building", "Space build fails: ERROR: Could not find a version that satisfies "
         "the requirement", "Gradio Space with {model} runs out of memory", "Space shows Runtime error after "
         "restart", "How to use secrets in a Docker Space?"),
        ("My Space has been stuck on “Building” for {n} hours. The logs stop after installing requirements.",
         "I deployed a Gradio demo for `{ckpt}` and the Space crashes with “Memory limit exceeded (16G)”."),
        ("import gradio as gr\nfrom transformers import pipeline\n\npipe = pipeline(model=\"{ckpt}\")\n"
         "gr.Interface(fn=lambda x: pipe(x), inputs=\"text\", outputs=\"text\").launch()",),
        ("ERROR: Could not find a version that satisfies the requirement torch==1.13.1+cu117\n"
         "ERROR: No matching distribution found for torch==1.13.1+cu117",),
        ("Remove the `+cu117` suffix from requirements.txt, Spaces install CUDA wheels by default.",
         "Free CPU Spaces have 16 GB of RAM; load the model in `torch_dtype=torch.float16` or upgrade the "
         "hardware in the Space settings."),
        planted=("CH.SPACES",),
    ),
    Theme(
        ("🤗Hub", "Models"), ("hub", "model-card"),
        ("How to upload my fine-tuned {model} to the Hub?", "push_to_hub fails with 403 Forbidden",
         "Model card metadata not showing on the Hub", "Can’t create a private repo in my organization",
         "Git LFS error when pushing a large model"),
        ("I fine-tuned `{ckpt}` and I want to share it. `model.push_to_hub(\"my-model\")` fails.",
         "The YAML metadata of my model card is ignored: no widget and no tags on the model page."),
        ("from huggingface_hub import notebook_login\nnotebook_login()\n\nmodel.push_to_hub(\"my-{family}-model\")\n"
         "tokenizer.push_to_hub(\"my-{family}-model\")",),
        ("huggingface_hub.utils._errors.HfHubHTTPError: 403 Client Error: Forbidden for url: "
         "https://huggingface.co/api/repos/create",),
        ("You need a token with the **write** role: create one in your settings and log in again.",
         "The metadata block must be the very first thing in README.md, between two `---` lines."),
        planted=("CH.WEBSITE_AND_PRICING",),
    ),
    Theme(
        ("🤗Hub", "Beginners", "Site Feedback"), ("inference-api",),
        ("Inference API pricing for {model}", "Inference API returns 503 Model is loading",
         "Rate limit on the free Inference API?", "Is the hosted Inference API free for commercial use?"),
        ("How much does the Inference API cost if I call `{ckpt}` about {n}k times a day?",
         "Every first call to the Inference API for my model returns `{\"error\":\"Model is currently loading\"}`."),
        ("import requests\n\nAPI_URL = \"https://api-inference.huggingface.co/models/{ckpt}\"\n"
         "resp = requests.post(API_URL, headers={\"Authorization\": f\"Bearer {token}\"}, json={\"inputs\": \"Hi\"})",),
        ("{\"error\": \"Model {ckpt} is currently loading\", \"estimated_time\": 20.0}",),
        ("The free API is rate limited and meant for prototyping; for production use Inference Endpoints.",
         "Send `\"options\": {\"wait_for_model\": true}` in the payload and the call blocks until loaded."),
        planted=("CH.INFERENCE_AND_DEPLOYMENT", "CH.INFERENCE_AND_DEPLOYMENT.INFERENCE_ENDPOINTS"),
    ),
    Theme(
        ("🤗Transformers", "Intermediate", "Models"), ("onnx", "optimum"),
        ("Exporting {model} to ONNX fails", "ONNX model is slower than PyTorch for {ckpt}",
         "How to quantize {model} with Optimum?", "Dynamic axes when exporting {model} to ONNX"),
        ("I exported `{ckpt}` with `python -m transformers.onnx` and inference is slower than with PyTorch.",
         "The ONNX export works but outputs differ from the PyTorch model by more than 1e-3."),
        ("python -m transformers.onnx --model={ckpt} --feature=sequence-classification onnx/",),
        ("ValueError: Outputs values doesn't match between reference model and ONNX exported model: "
         "Got max absolute difference of: 0.00213",),
        ("Use `optimum-cli export onnx --model {ckpt} out/` instead, and `ORTModelForSequenceClassification` "
         "for inference. Set `provider=\"CUDAExecutionProvider\"` for GPU.",
         "A max difference of 2e-3 is expected with fp16 exports; pass `--atol 1e-2`."),
        planted=("CH.MODEL_USAGE_AND_UNDERSTANDING", "CH.MODEL_USAGE_AND_UNDERSTANDING.MODEL_CONVERTING_ONNX_LIBRARY"),
    ),
    Theme(
        ("Intermediate", "🤗Transformers"), ("accelerate", "deepspeed"),
        ("Multi-GPU training with accelerate hangs", "DeepSpeed ZeRO-3 with {model}: loss is NaN",
         "accelerate launch uses only one GPU", "Distributed training with {model} on {gpu}",
         "NCCL timeout when training {model} on several GPUs"),
        ("I run `accelerate launch train.py` on {gpu} and only one GPU is used.",
         "With DeepSpeed ZeRO stage 3 and `{ckpt}`, the loss becomes NaN after {n} steps."),
        ("accelerate config\naccelerate launch --num_processes 2 train.py --model_name_or_path {ckpt}",),
        ("RuntimeError: NCCL communicator was aborted on rank 1.  Original reason for failure was: "
         "[Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1, OpType=ALLREDUCE, "
         "Timeout(ms)=1800000) ran for 1800472 milliseconds before timing out.",),
        ("Run `accelerate config` again and answer “multi-GPU”; check `accelerate env` prints 2 processes.",
         "Use bf16 instead of fp16 with DeepSpeed, fp16 overflows with {model}."),
        planted=("CH.MEMORY_AND_PERFORMANCE", "CH.MEMORY_AND_PERFORMANCE.GPU_AND_OPTIMIZATION"),
    ),
    Theme(
        ("Course", "Chapter 1", "Chapter 7"), ("course",),
        ("Chapter {chapter} questions", "Course chapter {chapter}: error in the notebook",
         "Question about the fine-tuning section of chapter {chapter}", "Typo in the course, chapter {chapter}"),
        ("In chapter {chapter} of the course, the Colab notebook fails at the `Trainer` cell.",
         "I don’t understand why the course uses `DataCollatorWithPadding` in chapter {chapter}."),
        ("from transformers import DataCollatorWithPadding\n\n"
         "data_collator = DataCollatorWithPadding(tokenizer=tokenizer)",),
        ("AttributeError: 'DatasetDict' object has no attribute 'to_tf_dataset'",),
        ("Thanks for reporting! The notebook was fixed, reload it from the course page.",
         "Dynamic padding pads each batch to its longest element, which is faster than padding everything."),
        planted=("CH.TUTORIAL_AND_DOCUMENTATION", "CH.TUTORIAL_AND_DOCUMENTATION.OFFICIAL_EXAMPLES_AND_TUTORIALS"),
    ),
    Theme(
        ("Amazon SageMaker",), ("sagemaker",),
        ("Deploying {model} on SageMaker: ModelError", "SageMaker training job fails with {ckpt}",
         "How to use a custom inference.py with the Hugging Face DLC?", "Serverless inference for {model}"),
        ("I deployed `{ckpt}` with `HuggingFaceModel(...).deploy()` and `predict` returns a ModelError.",
         "My training job on `ml.p3.2xlarge` fails immediately with {model}."),
        ("from sagemaker.huggingface import HuggingFaceModel\n\n"
         "hub = {\"HF_MODEL_ID\": \"{ckpt}\", \"HF_TASK\": \"text-classification\"}\n"
         "model = HuggingFaceModel(env=hub, role=role, transformers_version=\"4.26\", pytorch_version=\"1.13\", "
         "py_version=\"py39\")\npredictor = model.deploy(initial_instance_count=1, instance_type=\"ml.m5.xlarge\")",),
        ("ModelError: An error occurred (ModelError) when calling the InvokeEndpoint operation: Received client "
         "error (400) from primary with message \"{\"code\": 400, \"type\": \"InternalServerException\"}\"",),
        ("Put your `inference.py` in `code/` inside model.tar.gz, the toolkit picks it up.",
         "Check CloudWatch logs of the endpoint, the real error is there."),
        planted=("CH.EXTERNAL_PLATFORMS_AND_LIBRARIES", "CH.EXTERNAL_PLATFORMS_AND_LIBRARIES.AMAZON"),
    ),
    Theme(
        ("Flax/JAX Projects", "Research"), ("flax", "jax", "tpu"),
        ("Training {model} with Flax on TPU v3-8", "JAX out of memory on TPU with {model}",
         "Community week project: {model} for low-resource languages", "Flax {model} is slower than PyTorch"),
        ("We are pre-training {model} in Flax on a TPU v3-8 and the throughput is much lower than expected.",
         "Proposal for the community week: train `{ckpt}` on {ds} in Swahili and Yoruba."),
        ("from transformers import FlaxAutoModelForMaskedLM\n\n"
         "model = FlaxAutoModelForMaskedLM.from_pretrained(\"{ckpt}\")",),
        ("jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Attempting to allocate 1.21G. "
         "That was not possible. There are 823.52M free.",),
        ("Make sure you `jax.pmap` the train step and shard the batch over the 8 devices.",
         "Great idea! Join the Discord channel and add your project to the sheet."),
        planted=("CH.TRAINING_PIPELINE",),
    ),
    Theme(
        ("Research", "Models", "Intermediate"), ("generation", "llm"),
        ("{model} generate() repeats the same tokens", "How to use LoRA with {model}?",
         "Fine-tuning {model} with PEFT: loss does not decrease", "Best decoding strategy for {model}?",
         "Evaluation metrics for summarization with {model}"),
        ("`model.generate()` with `{ckpt}` keeps repeating the same phrase over and over.",
         "I fine-tuned {model} with LoRA (r=8) on {ds} and the loss stays at {n}.3."),
        ("outputs = model.generate(**inputs, max_new_tokens=100, do_sample=True, top_p=0.9,\n"
         "                         repetition_penalty=1.2, no_repeat_ngram_size=3)",),
        ("UserWarning: You have modified the pretrained model configuration to control generation. "
         "This is a deprecated strategy to control generation & will be removed soon",),
        ("Greedy decoding loves to repeat itself. Use sampling with `top_p` or set `no_repeat_ngram_size=3`.",
         "Check that the LoRA target modules match the attention layer names of {model}, e.g. `q_proj`."),
        planted=("CH.INCOMPREHENSIBLE_OUTPUT",),
    ),
    Theme(
        ("Site Feedback",), ("feedback",),
        ("Search on the forum does not find my topic", "Can’t edit my post after a few days",
         "Dark mode for the forum?", "Notification emails arrive twice", "Links to docs in old posts are broken"),
        ("When I search for “{model}” the forum search returns nothing, but I know topics exist.",
         "I wanted to fix a typo in my post from last week and the edit button is gone."),
        (), (),
        ("Thanks for the report! We raised the edit window for trust level 1 users.",
         "Posts can be edited for 30 days; after that, ask a moderator to edit for you."),
        planted=("CH.WEBSITE_AND_PRICING", "CH.WEBSITE_AND_PRICING.WEBSITE"),
    ),
]

#: Topics written in other languages: (title, question). Slugs of CJK titles become "topic".
FOREIGN: list[tuple[str, str]] = [
    ("Erreur CUDA out of memory lors du fine-tuning de CamemBERT",
     "Bonjour à tous, j’essaie d’entraîner `camembert-base` sur mes données et j’obtiens une erreur de mémoire. "
     "Des idées ? Merci d’avance :pray:"),
    ("Problème de tokenizer avec les accents (é, à, ç)",
     "Le tokenizer découpe « déjà » en trois morceaux, est-ce normal ?"),
    ("¿Cómo cargar un dataset local en español?",
     "Hola, tengo un CSV con reseñas en español y no sé cómo usar `load_dataset` con él. ¡Gracias!"),
    ("如何使用 pipeline 加载本地模型？", "我把模型下载到了本地文件夹，但是 `pipeline(model=\"./my_model\")` 报错，请问怎么解决？"),
    ("日本語のテキスト分類でBERTを使う方法", "`cl-tohoku/bert-base-japanese` を使っていますが、トークナイザーでエラーが出ます。"),
    ("Fehler beim Laden von Whisper auf der GPU",
     "Wenn ich Whisper auf die GPU lade, bekomme ich „RuntimeError: Expected all tensors to be on the same device“."),
    ("Модель T5 генерирует пустой текст", "Подскажите, почему `t5-small` возвращает пустую строку после дообучения?"),
    ("Fine-tuning BERT for Türkçe sentiment 🇹🇷", "Türkçe yorumlar için `dbmdz/bert-base-turkish-cased` kullanıyorum."),
]

OPENERS = ("Hi everyone,", "Hello!", "Hi all :wave:", "Hey,", "Good morning,", "Hi @{staff},", "")
THANKS = ("Thanks a lot, that worked! :slight_smile:", "Thank you @{answerer}, it works now :tada:",
          "That fixed it, much appreciated :pray:", "Still failing for me, same error :confused:",
          "Thanks! For anyone finding this later: upgrading to {ver} also fixes it.", "Awesome, thanks 🤗",
          "I’m seeing this too with {model}, any update?", "Same here. Did you find a solution?")
ENVIRONMENT = ("- `transformers` version: {ver}\n- Platform: Linux-5.15 x86_64\n- Python version: 3.9.16\n"
               "- PyTorch version (GPU?): 1.13.1+cu117 (True)\n- Using GPU in script?: yes, {gpu}")
DOC_LINKS = ("https://huggingface.co/docs/transformers/main_classes/trainer",
             "https://huggingface.co/docs/datasets/stream", "https://huggingface.co/course/chapter{chapter}/1",
             "https://huggingface.co/docs/hub/spaces-config-reference",
             "https://huggingface.co/docs/transformers/perf_train_gpu_one")
GITHUB_BLOBS = ("https://github.com/huggingface/transformers/blob/main/src/transformers/trainer.py#L1510-L1530",
                "https://github.com/huggingface/datasets/blob/main/src/datasets/load.py#L1702-L1720",
                "https://github.com/huggingface/accelerate/blob/main/src/accelerate/accelerator.py#L380-L395")
WHISPERS = ("Duplicate of an older topic, leaving it open since the answer helps.",
            "This user posted the same question in three categories, keep an eye on it.")
PINNED = [
    ("Welcome to the Hugging Face Forums! 🤗", "Site Feedback",
     "Welcome! This forum is the place to ask questions about the Hugging Face libraries, share projects and "
     "help each other. Please read the guidelines before posting, and use the right category :hugs:"),
    ("How to ask a good question (please read before posting)", "Beginners",
     "A good question has a minimal code sample, the full traceback in a code block, and the output of "
     "`transformers-cli env`. Screenshots of code are hard to read, please paste text instead."),
]
STAFF_TOPICS = ("Spam wave from new accounts this week", "Moderation schedule for the holidays",
                "Should we merge the Course subcategories?", "Draft: new community guidelines")
SPAM_TITLES = ("Best cheap essay writing service 2022!!!", "Buy followers fast and cheap, click here")
