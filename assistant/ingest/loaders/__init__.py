"""One loader per file format; each turns a file into `Document`s with citable sections.

`assistant.ingest.loading.load_document` checks the file and picks the loader by extension;
call the loaders directly only when the format is already known.

- `pdf.load_pdf`: one section per page (real page numbers), extraction under a time limit.
- `markdown.load_markdown`: front matter as metadata, sections by heading.
- `html.load_html`: sections by heading, clean text.
- `text.load_text`: one section.
- `word.load_word`: .docx, sections by heading style.
- `answers.load_answers`: past answers and resources (.yaml, .yml, .json, .csv), one document each.
"""
