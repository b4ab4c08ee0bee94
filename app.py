"""Start the Guichet vert web app: `python app.py` (same as `guichet serve`).

On first start, when the index is empty, the bundled sample corpus (corpus/guides, corpus/answers,
corpus/resources, corpus/peers) is indexed with a progress bar, then the app listens on GUICHET_HOST:GUICHET_PORT
(127.0.0.1:7860 by default): / for buyers, /conseiller/ for advisors, /reseau/ for the network.
"""

from assistant.compose import main

if __name__ == "__main__":
    main()
