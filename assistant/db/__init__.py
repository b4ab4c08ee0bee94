"""Persistence shared by every stage that keeps data in a database: the catalog and the reviews.

`engine.make_engine` (the one engine factory), `migrations.migrate` (the one migration runner,
over each part's table set) and `locks` (advisory lock numbers, transaction locks, the writer
lock). It imports nothing of guichet-vert but `errors`, so `store/` and `review/` both use it.
"""
