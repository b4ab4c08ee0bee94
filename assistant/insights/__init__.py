"""The network's view: recurring topics, indicators and exports, read from the review database.

`topics` groups questions by subject, `indicators` computes a period's figures, `network`
reads them from the review service for the dashboard and the CLI alike, `exports` writes them
for a spreadsheet and `agreement` measures a grouping against reference subjects. Nothing here
imports Gradio.
"""
