"""The full-text side of SearchDocument, per database.

SQLite: an FTS5 table with external content (the tokens live once, in knowledge_searchdocument)
kept in step by triggers, so every ORM insert, upsert and delete updates it. The unicode61
tokenizer splits on our spaces only: tokens are already segmented, and CJK letters are token
characters to it.

PostgreSQL: a stored generated tsvector column over the same tokens with the 'simple'
configuration (no stemming, no stop words) and a partial GIN index per kind.
"""

from django.db import migrations

KINDS = ("article", "order", "customer", "machine")
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(tokens, content='knowledge_searchdocument', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='3')",
    """CREATE TRIGGER knowledge_searchdocument_ai AFTER INSERT ON knowledge_searchdocument BEGIN
         INSERT INTO knowledge_fts(rowid, tokens) VALUES (new.id, new.tokens);
       END""",
    """CREATE TRIGGER knowledge_searchdocument_ad AFTER DELETE ON knowledge_searchdocument BEGIN
         INSERT INTO knowledge_fts(knowledge_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens);
       END""",
    """CREATE TRIGGER knowledge_searchdocument_au AFTER UPDATE ON knowledge_searchdocument BEGIN
         INSERT INTO knowledge_fts(knowledge_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens);
         INSERT INTO knowledge_fts(rowid, tokens) VALUES (new.id, new.tokens);
       END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS knowledge_searchdocument_au",
    "DROP TRIGGER IF EXISTS knowledge_searchdocument_ad",
    "DROP TRIGGER IF EXISTS knowledge_searchdocument_ai",
    "DROP TABLE IF EXISTS knowledge_fts",
]
POSTGRES_FORWARD = [
    "ALTER TABLE knowledge_searchdocument ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    # One partial index per kind: a search of one kind walks only that kind's posting lists (a
    # word common among a million orders costs nothing to an article search).
    *(f"CREATE INDEX knowledge_searchdocument_tsv_{kind}_idx ON knowledge_searchdocument USING gin (tsv) "
      f"WHERE kind = '{kind}'" for kind in KINDS),
]
POSTGRES_BACKWARD = [
    *(f"DROP INDEX IF EXISTS knowledge_searchdocument_tsv_{kind}_idx" for kind in KINDS),
    "ALTER TABLE knowledge_searchdocument DROP COLUMN IF EXISTS tsv",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements[schema_editor.connection.vendor]:
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
