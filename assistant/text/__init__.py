"""French text, shared by every stage: accent folding and normalisation, stop words, the
analyser (BM25 tokens, query expansions) and word shingles.

Nothing here imports another stage: ingest, retrieval, drafting, evaluation and insights all
read French text through this package, so a question, a chunk and a topic are cut the same way.
"""
