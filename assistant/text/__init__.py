"""French text, shared by every stage: accent folding and normalisation, stop words, the
analyser (BM25 tokens, query expansions), word shingles, sentence splitting (`sentences`) and
French places (`places`: départements, régions, kinds of organisation).

Nothing here imports another stage: ingest, retrieval, drafting, evaluation and insights all
read French text through this package, so a question, a chunk and a topic are cut the same way.
"""
