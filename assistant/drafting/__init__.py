"""Drafting stage: turn retrieved passages into a cited French draft, or abstain.

Modules: `base` (the `Generator` protocol), `factory` (`make_generator`), `extractive` (default,
offline) and `llm` (OpenAI-compatible endpoint) generators, `citations` (markers and
verification), `abstention` (+ `calibration`), `dates`, `followup`, `injection`, `sentences`,
`selection`, `render`, `prompts`, `texts`, `terms`, `refs` (passages stored with a draft job), and
`service` (`draft_for_review`).
"""
