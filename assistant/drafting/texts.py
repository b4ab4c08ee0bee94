"""The fixed French wording of drafts: opening, headings, closing, abstention, advisor notes.

Kept in one place so that the generators write the same frame and `citations.verify` knows
which lines are frame (not claims that need a citation).

Example:
    >>> SOURCES_HEADING
    'Sources :'
"""

from __future__ import annotations

OPENING = "D'après les documents de la base, voici les éléments qui répondent à votre question :"
#: Opening of a partial draft; `{missing}` is what the sources do not give ("ce chiffre").
PARTIAL_OPENING = ("Les sources consultées ne donnent pas {missing} ; voici ce qu'elles disent sur le "
                   "sujet :")
PARTIAL_FLAG = ("réponse partielle : les sources ne donnent pas {missing} ; vérifiez ce qui est cité, "
                "complétez ou réorientez avant d'envoyer")
#: How a past answer of the desk is named among the sources ("... du 2026-11-28").
PAST_ANSWER = "Réponse validée du guichet"
SOURCES_HEADING = "Sources :"
FURTHER_PREFIX = "Pour aller plus loin :"
CLOSING = ("Une précision à apporter ou une autre question ? "
           "Répondez simplement à ce message, nous reprendrons le fil.")

ABSTENTION = ("Je n'ai pas trouvé de source fiable dans la base documentaire du guichet vert "
              "pour répondre à cette question.")
ASK_NETWORK = ("Nous vous conseillons de la poser à votre réseau régional d'acheteurs responsables "
               "ou au guichet vert de votre région, qui pourra vous orienter vers un retour "
               "d'expérience ou un pair.")
ASK_LEGAL = ("S'agissant d'un point de droit, adressez-vous aussi au service juridique de votre "
             "structure ou à un juriste de la commande publique : le guichet vert ne fait pas "
             "d'expertise juridique.")
ASK_RESOURCES = "Ces interlocuteurs peuvent vous orienter :"
ABSTENTION_CLOSING = "Si vous pouvez préciser votre besoin, reposez la question : nous relancerons la recherche."

LLM_FALLBACK = "le générateur LLM n'a pas répondu ({cause}) : brouillon extractif"
LLM_INTERRUPTED = "[réponse interrompue : brouillon extractif ci-dessous]"

#: Lines of the frame that never need a citation (compared after normalisation).
FRAME = (OPENING, CLOSING, ABSTENTION, ASK_NETWORK, ASK_LEGAL, ABSTENTION_CLOSING)
