"""Structure-aware chunking: split within one section (page or headed section), never across.

Example:
    >>> doc = Document("/a.md", "Guide", "guide", (Section("Un texte court.", heading=("Intro",)),))
    >>> [c.section for c in chunk_document(doc, size=900, overlap=150)]
    ['Intro']
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.records import Chunk, Document, chunk_id

_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]
#: Bump when chunks change (their boundaries, or what loaders put in them such as titles), so
#: that the next ingestion re-chunks unchanged files (3: PDF titles from the cover's layout).
CHUNKER_VERSION = "3"
MIN_CHARS = 20  # shorter leftovers (a lone page number, a caption) are noise for retrieval


def chunk_document(doc: Document, size: int, overlap: int) -> list[Chunk]:
    """Split each section of `doc` into chunks of about `size` characters.

    Args:
        doc: A loaded document.
        size: Target chunk length in characters.
        overlap: Characters repeated between consecutive chunks of one section.

    Returns:
        Chunks in reading order; each keeps its exact original text for quoting and the offset
        of that text in the document. Past answers and resources stay one chunk per record.
    """
    whole = doc.kind in ("answer", "resource")
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2),
                                              separators=_SEPARATORS, keep_separator="end",
                                              add_start_index=True, strip_whitespace=True)
    chunks: list[Chunk] = []
    for section in doc.sections:
        section_path = " > ".join(section.heading)
        pieces = ([(section.text.strip(), section.text.find(section.text.strip()))] if whole else
                  _merge_tail([(p.page_content, p.metadata["start_index"])
                               for p in splitter.create_documents([section.text])], section.text, size))
        for text, offset in pieces:
            if len(text.strip()) < MIN_CHARS:
                continue
            start = section.start + offset
            chunks.append(Chunk(id=chunk_id(doc.source, section.page, start, text), text=text,
                                source=doc.source, title=doc.title, kind=doc.kind, page=section.page,
                                section=section_path, start=start, metadata=dict(doc.metadata)))
    return chunks


def _merge_tail(pieces: list[tuple[str, int]], text: str, size: int) -> list[tuple[str, int]]:
    """Fold a section's short last piece (a page footer, a closing line) into the previous chunk.

    Alone, such a fragment makes a chunk that matches many queries on the dense side and answers
    none. The merged chunk is still a verbatim span of the section, at most 25 % over `size`.
    """
    if len(pieces) >= 2 and len(pieces[-1][0]) < size // 4:
        (_, start), (last, last_start) = pieces[-2], pieces[-1]
        pieces = pieces[:-2] + [(text[start:last_start + len(last)], start)]
    return pieces
