"""The web app: buyer chat (open), advisor review and network dashboard (login required).

One module per panel (`buyer`, `advisor`, `dashboard`), their service layer (`desk`), pure
formatting (`render`), the advisor login (`auth`), the middlewares in front of everything
(`guard`) and the assembly (`server`). The network's figures and topics come from
`assistant.insights`. Gradio is imported only by the panels and the server.
"""

import os

# No telemetry and no version check from a desk that must run offline.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
