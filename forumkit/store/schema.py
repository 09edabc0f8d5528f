"""The store's schema: every table, in one place (documented in docs/schema.md, which a test regenerates).

``SCHEMA_VERSION`` is kept in ``PRAGMA user_version``; every table is ``IF NOT EXISTS`` so that a newer
release adds its tables to an older store. A column added to an existing table is written twice: in its
``CREATE TABLE`` below (new stores) and in ``ADDED_COLUMNS`` under the version that brought it (older stores,
altered once when they are opened).
"""

SCHEMA_VERSION = 2

ADDED_COLUMNS: dict[int, list[tuple[str, str, str]]] = {  # version -> (table, column, type)
    2: [("coded", "codebook_version", "TEXT"),
        ("studio_projects", "round", "INTEGER"),
        ("studio_projects", "coder", "TEXT")],
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS forums (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL UNIQUE,      -- base URL, no trailing slash
    added_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS categories (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    parent_id   INTEGER,
    description TEXT,
    topic_count INTEGER,
    post_count  INTEGER,
    position    INTEGER,
    read_restricted INTEGER NOT NULL DEFAULT 0,
    definition_topic_id INTEGER,           -- the category's "About the ..." topic
    PRIMARY KEY (forum_id, id)
);
CREATE TABLE IF NOT EXISTS users (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,
    username    TEXT NOT NULL,
    name        TEXT,
    trust_level INTEGER,
    admin       INTEGER,
    moderator   INTEGER,
    staff       INTEGER,                   -- as last seen; posts keep the flags at posting time
    PRIMARY KEY (forum_id, id)
);
CREATE TABLE IF NOT EXISTS topics (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,
    category_id INTEGER,
    title       TEXT NOT NULL,
    slug        TEXT NOT NULL,
    user_id     INTEGER,                   -- original poster
    created_at  TEXT NOT NULL,             -- ISO-8601 UTC, as the forum gives it
    bumped_at   TEXT,
    last_posted_at TEXT,
    posts_count INTEGER NOT NULL,          -- as the forum counts them
    reply_count INTEGER,
    highest_post_number INTEGER,
    views       INTEGER,
    like_count  INTEGER,
    has_accepted_answer INTEGER NOT NULL DEFAULT 0,
    accepted_answer_post_number INTEGER,
    closed      INTEGER NOT NULL DEFAULT 0,
    archived    INTEGER NOT NULL DEFAULT 0,
    pinned      INTEGER NOT NULL DEFAULT 0,
    archetype   TEXT,
    fetched_at  TEXT,                      -- last time its posts were fetched topic by topic
    removed_at  TEXT,                      -- set when the forum stopped serving it (404)
    PRIMARY KEY (forum_id, id)
);
CREATE TABLE IF NOT EXISTS tags (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    name        TEXT NOT NULL,
    PRIMARY KEY (forum_id, name)
);
CREATE TABLE IF NOT EXISTS topic_tags (
    forum_id    INTEGER NOT NULL,
    topic_id    INTEGER NOT NULL,
    tag         TEXT NOT NULL,
    PRIMARY KEY (forum_id, topic_id, tag)
);
CREATE TABLE IF NOT EXISTS posts (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,          -- stable across moves between topics
    topic_id    INTEGER NOT NULL,
    post_number INTEGER NOT NULL,
    post_type   INTEGER NOT NULL,          -- 1 regular, 2 moderator action, 3 small action
    user_id     INTEGER,
    username    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT,
    version     INTEGER NOT NULL,
    reply_to_post_number INTEGER,
    like_count  INTEGER NOT NULL,
    reads       INTEGER,
    hidden      INTEGER NOT NULL,          -- flagged by the community: cooked is a placeholder
    user_deleted INTEGER NOT NULL,         -- withdrawn by its author: cooked is a placeholder
    accepted_answer INTEGER NOT NULL,
    author_staff INTEGER NOT NULL,
    author_admin INTEGER NOT NULL,
    author_moderator INTEGER NOT NULL,
    author_trust_level INTEGER,
    cooked      TEXT NOT NULL,             -- the forum's HTML, unchanged
    text        TEXT NOT NULL,             -- own words: no code blocks, no quotes of other posts
    code        TEXT NOT NULL,             -- text of the code blocks
    code_blocks INTEGER NOT NULL,
    inline_code INTEGER NOT NULL,
    quotes      INTEGER NOT NULL,
    links       INTEGER NOT NULL,
    images      INTEGER NOT NULL,
    oneboxes    TEXT NOT NULL,             -- JSON list of URLs
    fetched_at  TEXT NOT NULL,
    removed_at  TEXT,                      -- set when its topic no longer lists it
    PRIMARY KEY (forum_id, id)
);
CREATE INDEX IF NOT EXISTS posts_by_topic ON posts (forum_id, topic_id, post_number);
CREATE TABLE IF NOT EXISTS parse_fallbacks (   -- posts whose HTML defeated the parser: text is a crude tag strip
    forum_id    INTEGER NOT NULL,
    post_id     INTEGER NOT NULL,
    reason      TEXT NOT NULL,             -- what went wrong, one line
    PRIMARY KEY (forum_id, post_id)
);
CREATE TABLE IF NOT EXISTS model_mentions (
    forum_id    INTEGER NOT NULL,
    post_id     INTEGER NOT NULL,
    topic_id    INTEGER NOT NULL,
    model       TEXT NOT NULL,             -- canonical name from the vocabulary
    in_title    INTEGER NOT NULL,          -- mentions in the topic title (first posts only)
    in_text     INTEGER NOT NULL,
    in_code     INTEGER NOT NULL,
    PRIMARY KEY (forum_id, post_id, model)
);
CREATE INDEX IF NOT EXISTS mentions_by_topic ON model_mentions (forum_id, topic_id);
CREATE TABLE IF NOT EXISTS crawl_runs (
    id          INTEGER PRIMARY KEY,
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,             -- running | done
    options     TEXT NOT NULL,             -- JSON of the crawl options
    phase       TEXT NOT NULL,             -- categories | listing | posts | topics | done
    cursor      TEXT NOT NULL DEFAULT '{}',-- JSON: where the phase stopped
    requests    INTEGER NOT NULL DEFAULT 0,
    since_bumped_at TEXT,                  -- previous run's watermark on topic activity
    since_post_id INTEGER,                 -- previous run's highest post id
    max_bumped_at TEXT,                    -- this run's watermark, committed when it finishes
    max_post_id INTEGER
);
CREATE TABLE IF NOT EXISTS samples (
    id          TEXT PRIMARY KEY,          -- the sample's name, e.g. 'round1'
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    unit        TEXT NOT NULL,             -- topic | post
    design      TEXT NOT NULL,             -- JSON: method, strata, allocation, seed, size computation,
                                           --   filters, population size of each stratum
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sample_items (
    sample_id   TEXT NOT NULL REFERENCES samples(id),
    item_id     INTEGER NOT NULL,          -- topic id or post id, as the sample's unit says
    stratum     TEXT,                      -- category or period the item was drawn from
    weight      REAL NOT NULL,             -- stratum population / stratum sample size (1 in an uncertainty sample)
    position    INTEGER NOT NULL,          -- order of the draw
    PRIMARY KEY (sample_id, item_id)
);
CREATE TABLE IF NOT EXISTS codebooks (
    id          TEXT NOT NULL,
    version     TEXT NOT NULL,
    content     TEXT NOT NULL,             -- the codebook as JSON, as it was when used
    added_at    TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE IF NOT EXISTS studio_projects (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,             -- Label Studio server
    project_id  INTEGER NOT NULL,          -- its project id there
    title       TEXT NOT NULL,
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    sample_id   TEXT REFERENCES samples(id),
    unit        TEXT NOT NULL,             -- topic | post
    codebooks   TEXT NOT NULL,             -- JSON list of [codebook id, version]
    created_at  TEXT NOT NULL,
    round       INTEGER,                   -- the coding round it belongs to; NULL outside rounds
    coder       TEXT,                      -- in a blind round, the one coder (e-mail) this project is for
    UNIQUE (url, project_id)
);
CREATE TABLE IF NOT EXISTS studio_tasks (
    project     INTEGER NOT NULL REFERENCES studio_projects(id),
    item_id     INTEGER NOT NULL,
    task_id     INTEGER NOT NULL,          -- Label Studio task id
    PRIMARY KEY (project, item_id)
);
CREATE TABLE IF NOT EXISTS annotations (
    project     INTEGER NOT NULL REFERENCES studio_projects(id),
    annotation_id INTEGER NOT NULL,        -- Label Studio annotation id
    task_id     INTEGER NOT NULL,
    item_id     INTEGER NOT NULL,
    coder       TEXT NOT NULL,             -- the annotator's e-mail in Label Studio
    annotated_at TEXT,                     -- ISO-8601 UTC of the last change
    lead_time   REAL,                      -- seconds spent, as Label Studio measured
    was_cancelled INTEGER NOT NULL,        -- skipped by the coder
    memo        TEXT,
    pulled_at   TEXT NOT NULL,
    PRIMARY KEY (project, annotation_id)
);
CREATE TABLE IF NOT EXISTS coded (
    project     INTEGER NOT NULL,
    annotation_id INTEGER NOT NULL,
    code_id     TEXT NOT NULL,             -- stable id from the codebook
    codebook_id TEXT NOT NULL,
    category    TEXT NOT NULL,             -- top-level category name
    subcategory TEXT,                      -- deepest name below it, if any
    codebook_version TEXT,                 -- the codebook's version the code was given under
    PRIMARY KEY (project, annotation_id, code_id),
    FOREIGN KEY (project, annotation_id) REFERENCES annotations(project, annotation_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS hub_models (
    endpoint    TEXT NOT NULL,             -- Hub base URL, e.g. https://huggingface.co
    id          TEXT NOT NULL,             -- repo id, "org/name"
    author      TEXT,
    created_at  TEXT,                      -- ISO-8601 UTC as the Hub gives it; NULL when missing
    created_known INTEGER NOT NULL,        -- 0 when missing or the pre-2022-03 placeholder 2022-03-02T23:29:04.000Z
    last_modified TEXT,
    pipeline_tag TEXT,
    library_name TEXT,
    model_type  TEXT,                      -- config.model_type when exposed
    base_models TEXT NOT NULL,             -- JSON list of base model ids (card base_model or baseModels)
    tags        TEXT NOT NULL,             -- JSON list
    downloads   INTEGER,
    likes       INTEGER,
    has_card    INTEGER NOT NULL,          -- card metadata (README front matter) present
    card_data   TEXT,                      -- that metadata as JSON, as served
    license     TEXT,                      -- card license, or the license: tag
    languages   TEXT NOT NULL,             -- JSON list
    datasets    TEXT NOT NULL,             -- JSON list
    has_metrics INTEGER NOT NULL,          -- card metrics or model-index evaluation results
    has_model_index INTEGER NOT NULL,
    fetched_at  TEXT NOT NULL,
    PRIMARY KEY (endpoint, id)
);
CREATE INDEX IF NOT EXISTS hub_models_created ON hub_models (endpoint, created_at);
CREATE TABLE IF NOT EXISTS hub_runs (
    id          INTEGER PRIMARY KEY,
    endpoint    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,             -- running | done
    options     TEXT NOT NULL,             -- JSON of the crawl's filters
    next_url    TEXT,                      -- the Link cursor URL to resume from
    since_modified TEXT,                   -- previous run's watermark: stop below it
    max_modified TEXT,                     -- this run's watermark, committed when it finishes
    models      INTEGER NOT NULL DEFAULT 0,
    malformed   INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hub_malformed (
    endpoint    TEXT NOT NULL,
    run_id      INTEGER NOT NULL,
    model_id    TEXT,                      -- NULL when the entry has no id
    problem     TEXT NOT NULL,             -- what was wrong, one line
    raw         TEXT NOT NULL              -- the entry as served (JSON)
);
CREATE TABLE IF NOT EXISTS topic_queue (
    forum_id    INTEGER NOT NULL,
    topic_id    INTEGER NOT NULL,
    reason      TEXT NOT NULL,             -- new | changed | bumped | recheck | definition
    PRIMARY KEY (forum_id, topic_id)
);
CREATE TABLE IF NOT EXISTS embeddings (     -- cache of text embeddings: a second run embeds nothing it saw
    model       TEXT NOT NULL,             -- the embedder's name and version, e.g. all-MiniLM-L6-v2
    text_hash   TEXT NOT NULL,             -- sha256 of the exact text embedded
    dim         INTEGER NOT NULL,
    vector      BLOB NOT NULL,             -- float32, little-endian, L2-normalised
    PRIMARY KEY (model, text_hash)
);
CREATE TABLE IF NOT EXISTS studio_suggestions ( -- what each task was suggested when pushed: `suggest report` reads it
    project     INTEGER NOT NULL REFERENCES studio_projects(id),
    item_id     INTEGER NOT NULL,
    code_id     TEXT NOT NULL,
    codebook_id TEXT NOT NULL,
    score       REAL,                      -- the suggestion's score (a probability or a similarity in [0, 1])
    rank        INTEGER,                   -- its rank among the item's suggestions (1 = best), if given
    in_set      INTEGER NOT NULL,          -- 1: in the prediction set, pre-selected in the task; 0: only listed
    evidence    TEXT,                      -- what supports it, as the suggestions file says
    model_version TEXT NOT NULL,
    pushed_at   TEXT NOT NULL,
    PRIMARY KEY (project, item_id, code_id)
);
CREATE TABLE IF NOT EXISTS topic_runs (    -- one run of `forumkit suggest topics`: a topic model of the forum's items
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    forum_id    INTEGER,                   -- the forum whose items were modelled
    unit        TEXT NOT NULL,             -- topic | post: what one item is
    model_version TEXT NOT NULL,           -- e.g. bertopic-0.17.4/static-minilm-256/seed-0/guide-seed
    embedder    TEXT NOT NULL,             -- the embedding model's name, as in embeddings.model
    seed        INTEGER NOT NULL,
    options     TEXT NOT NULL,             -- JSON of every option of the run (dates, sizes, guide, codebooks)
    n_items     INTEGER NOT NULL,
    n_topics    INTEGER NOT NULL,          -- topics found, the outlier topic -1 not counted
    outliers_before REAL NOT NULL,         -- share of items in topic -1 as clustered
    outliers_after REAL NOT NULL,          -- ... after outlier reduction
    out_dir     TEXT                       -- where the run wrote its files and saved model
);
CREATE TABLE IF NOT EXISTS topic_items (   -- the topic of each item in a run
    run_id      INTEGER NOT NULL REFERENCES topic_runs(id) ON DELETE CASCADE,
    item_id     INTEGER NOT NULL,          -- topic id or post id (see topic_runs.unit)
    created_at  TEXT,                      -- the item's creation time, for topics over time
    topic       INTEGER NOT NULL,          -- after outlier reduction; -1: outlier
    topic_before INTEGER NOT NULL,         -- as clustered, before outlier reduction
    PRIMARY KEY (run_id, item_id)
);
CREATE TABLE IF NOT EXISTS topic_words (   -- each topic's top words (c-TF-IDF) in a run
    run_id      INTEGER NOT NULL REFERENCES topic_runs(id) ON DELETE CASCADE,
    topic       INTEGER NOT NULL,
    rank        INTEGER NOT NULL,          -- 1 = the most typical word
    word        TEXT NOT NULL,
    weight      REAL NOT NULL,             -- c-TF-IDF weight
    PRIMARY KEY (run_id, topic, rank)
);
CREATE TABLE IF NOT EXISTS topic_codes (   -- each topic's nearest codebook codes in a run
    run_id      INTEGER NOT NULL REFERENCES topic_runs(id) ON DELETE CASCADE,
    topic       INTEGER NOT NULL,
    rank        INTEGER NOT NULL,          -- 1 = the nearest code
    codebook    TEXT NOT NULL,
    code_id     TEXT NOT NULL,
    category_id TEXT NOT NULL,             -- the code's top-level category
    similarity  REAL NOT NULL,             -- cosine between the topic and the code's text, -1..1
    score       REAL NOT NULL,             -- ranking score (semantic and lexical z-scores combined)
    PRIMARY KEY (run_id, topic, rank)
);
CREATE TABLE IF NOT EXISTS adjudication_projects ( -- where a coded project's disagreements are settled: `forumkit adjudicate`
    project     INTEGER PRIMARY KEY REFERENCES studio_projects(id), -- the coded project
    url         TEXT NOT NULL,             -- Label Studio server
    project_id  INTEGER NOT NULL,          -- the adjudication project's id there
    adjudicator TEXT,                      -- e-mail whose decisions count; NULL: whoever annotates the queue
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS adjudications ( -- an adjudicator's decision on an item its coders disagreed on
    project     INTEGER NOT NULL REFERENCES studio_projects(id), -- the coded project
    item_id     INTEGER NOT NULL,
    annotation_id INTEGER NOT NULL,        -- the decision: an annotation of the adjudication project
    decided_by  TEXT NOT NULL,             -- the adjudicator's e-mail in Label Studio
    decided_at  TEXT,                      -- ISO-8601 UTC of the decision's last change
    reason      TEXT,                      -- why, as the adjudicator wrote it
    pulled_at   TEXT NOT NULL,
    PRIMARY KEY (project, item_id)
);
CREATE TABLE IF NOT EXISTS adjudicated_codes ( -- the codes a decision gives the item (none: it gets no code)
    project     INTEGER NOT NULL,
    item_id     INTEGER NOT NULL,
    code_id     TEXT NOT NULL,
    codebook_id TEXT NOT NULL,
    category    TEXT NOT NULL,
    subcategory TEXT,
    codebook_version TEXT,
    PRIMARY KEY (project, item_id, code_id),
    FOREIGN KEY (project, item_id) REFERENCES adjudications(project, item_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS codebook_migrations ( -- one `forumkit codebook migrate` of a project's codebook
    id          INTEGER PRIMARY KEY,
    project     INTEGER NOT NULL REFERENCES studio_projects(id),
    codebook_id TEXT NOT NULL,
    from_version TEXT NOT NULL,
    to_version  TEXT NOT NULL,
    map         TEXT NOT NULL,             -- the mapping as JSON (rename, merge, split, retire)
    started_at  TEXT NOT NULL,
    applied_at  TEXT,                      -- NULL until every step is done (a re-run resumes it)
    annotations INTEGER,                   -- annotations rewritten in Label Studio
    renamed     INTEGER,                   -- codes of annotations renamed to a new id
    merged      INTEGER,                   -- ... merged into another code
    split       INTEGER,                   -- ... removed by a split (their items queued for recoding)
    retired     INTEGER,                   -- ... removed as retired
    UNIQUE (project, codebook_id, to_version)
);
CREATE TABLE IF NOT EXISTS codebook_migration_codes ( -- each code of an annotation that a migration changed
    migration   INTEGER NOT NULL REFERENCES codebook_migrations(id),
    annotation_id INTEGER NOT NULL,        -- Label Studio annotation id
    item_id     INTEGER NOT NULL,
    old_code    TEXT NOT NULL,
    action      TEXT NOT NULL,             -- rename | merge | split | retire
    new_codes   TEXT NOT NULL,             -- JSON list: the code it became, a split's candidates, [] if retired
    PRIMARY KEY (migration, annotation_id, old_code)
);
CREATE TABLE IF NOT EXISTS recode_queue (  -- items to code again because a migration split one of their codes
    project     INTEGER NOT NULL REFERENCES studio_projects(id),
    item_id     INTEGER NOT NULL,
    task_id     INTEGER NOT NULL,          -- Label Studio task (in the "Needs recoding" tab)
    codebook_id TEXT NOT NULL,
    old_code    TEXT NOT NULL,             -- the split code
    candidates  TEXT NOT NULL,             -- JSON list of the codes to choose from
    migration   INTEGER NOT NULL REFERENCES codebook_migrations(id),
    queued_at   TEXT NOT NULL,
    done_at     TEXT,                      -- set by whoever recodes it (a later round)
    PRIMARY KEY (project, item_id, codebook_id, old_code)
);
CREATE TABLE IF NOT EXISTS rounds (       -- a coding round: a sample coded blind by assigned coders (studio push --round)
    round       INTEGER PRIMARY KEY,       -- the round's number, unique in the store
    sample_id   TEXT,                      -- the sample coded; NULL for a list of items
    forum_id    INTEGER NOT NULL,
    unit        TEXT NOT NULL,             -- topic | post
    codebooks   TEXT NOT NULL,             -- JSON list of [codebook id, version] of the last push
    coders      TEXT NOT NULL,             -- JSON list of the coders' e-mails, sorted
    per_item    INTEGER NOT NULL,          -- coders assigned to each item
    seed        INTEGER NOT NULL,          -- seed of the assignment
    mechanism   TEXT NOT NULL,             -- how coders are kept apart: server-per-coder
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS round_assignments (  -- which coder codes which item in a round
    round       INTEGER NOT NULL REFERENCES rounds(round),
    item_id     INTEGER NOT NULL,
    coder       TEXT NOT NULL,             -- e-mail; the coder's own project has this item as a task
    PRIMARY KEY (round, item_id, coder)
);
"""
