"""French stop words: for search (the analyser) and for picking evidence spans.

Example:
    >>> "combien" in STOP_WORDS, "pas" in STOP_WORDS, "pas" in UNINFORMATIVE
    (True, False, True)
"""

from __future__ import annotations

#: Snowball's French list, accents folded (words are compared after `normalize.fold`), plus
#: words of questions and of informal writing that say nothing about the subject ("ca", "quel",
#: "combien"). Negations stay out: "pas" and "sans" change what a buyer asks.
STOP_WORDS = frozenset("""
a ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez aurions
aurons auront aux avaient avais avait avec avez aviez avions avons ayant ayez ayons c ce ces
d dans de des du elle en es est et etaient etais etait etant etiez etions ete etee etees etes
eu eue eues eurent eus eusse eussent eusses eussiez eussions eut eux eumes eutes furent fus
fusse fussent fusses fussiez fussions fut fumes futes il ils j je l la le les leur lui m ma
mais me mes moi mon meme n ne nos notre nous on ont ou par pour qu que qui s sa se sera
serai seraient serais serait seras serez seriez serions serons seront ses soient sois soit
sommes son sont soyez soyons suis sur t ta te tes toi ton tu un une vos votre vous y
ca cela ceci celui celle ceux celles cet cette quel quelle quels quelles quoi lequel laquelle
lesquels lesquelles dont combien comment pourquoi quand ici voila
""".split())

#: Words that say nothing about where a passage comes from, for choosing a distinctive evidence
#: span (`evaluation.export`): the stop words plus negations, auxiliaries and a few English ones.
UNINFORMATIVE = STOP_WORDS | frozenset("""
pas plus ni leurs etre avoir fait faire peut doit aussi tout tous toute toutes comme si
the of and to in
""".split())
