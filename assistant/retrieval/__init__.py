"""Retrieval: French analysis, BM25, dense search, fusion, de-duplication, filters, reranking.

Public entry points (import them from their modules; this package imports nothing heavy):
- `analysis.FrenchAnalyzer`, `analysis.ANALYZER_VERSION`: tokens for the lexical index.
- `lexical.LexicalIndex`: persistent BM25 kept in step with the catalog generation.
- `fusion.fuse`: weighted RRF or min-max score fusion (pure).
- `dedup.collapse`: PDF / Markdown copies of one text become one passage.
- `filters.Filters`: kind, source and tag filters.
- `hybrid.HybridRetriever`: the search used by the assistant.
- `rerank.CrossEncoderReranker`: optional second stage.
- `langchain.GuichetRetriever`: LangChain `BaseRetriever` adapter.
"""
