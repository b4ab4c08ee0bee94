"""Drafting stage: turn retrieved passages into a cited French draft, or abstain.

Modules: `base` (the `Generator` protocol), `factory` (`DraftingConfig`, `make_generator`),
`extractive` (default, offline) and `llm` (OpenAI-compatible endpoint) generators, `citations`
(markers and verification), `abstention` (fitted by `evaluation.calibration`), `dates`, `followup`,
`injection`, `selection`, `render`, `prompts`, `texts`, `terms`, and `refs` (passages
stored with a draft job).
"""
