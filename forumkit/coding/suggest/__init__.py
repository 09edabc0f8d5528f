"""Suggestions for coders: which codes an item likely gets, and which topics a corpus holds.

The pieces, each a module:

- :mod:`.corpus` -- the items to suggest for, from the store or from any CSV/Parquet table;
- :mod:`.embed` -- text embedders that work offline (all-MiniLM-L6-v2 shipped by a package, a static
  model2vec model shipped with forumkit), with a cache in the store;
- :mod:`.classifier` -- :class:`~.classifier.CodeClassifier`, the code suggester (zero-shot from the codebook,
  trained on coded items, calibrated, conformal sets) and :func:`~.classifier.out_of_fold_proba`;
- :mod:`.zeroshot`, :mod:`.lexical`, :mod:`.levels`, :mod:`.conformal`, :mod:`.training` -- its parts.
- :mod:`.active`, :mod:`.select`, :mod:`.audit`, :mod:`.trainset` -- active learning (the next sample to code:
  uncertain and spread out) and the audit of coded items (cleanlab on out-of-fold probabilities, confused codes).
- :mod:`.topics` -- the topics of a corpus (BERTopic guided by the codebook, deterministic, outliers reduced);
- :mod:`.topicmap` -- how the codebook guides the topics, and each topic's nearest codes;
- :mod:`.acceptance` -- how suggestions pushed to Label Studio fared with the coders (`suggest report`).
"""
