"""Suggestions for coders: which codes an item likely gets, and which topics a corpus holds.

The pieces, each a module:

- :mod:`.corpus` -- the items to suggest for, from the store or from any CSV/Parquet table;
- :mod:`.embed` -- text embedders that work offline (all-MiniLM-L6-v2 shipped by a package, a static
  model2vec model shipped with forumkit), with a cache in the store.
- :mod:`.topics` -- the topics of a corpus (BERTopic guided by the codebook, deterministic, outliers reduced);
- :mod:`.topicmap` -- how the codebook guides the topics, and each topic's nearest codes.
"""
