"""notebook: a small notes app on PostgreSQL, the upstream app of ccci's database recipe.

Version 1.0 stores notes as text; 2.0 adds a title and a creation time (schema 2). At start
the app waits for the database and applies every migration up to its own version, so 2.0
started on a 1.0 database migrates it in place. Schema 2 only adds columns with defaults, so
1.0 still runs on it (an expand-only migration): rolling 2.0 back to 1.0 keeps every note.

HTTP API on :8080
  GET  /health          200 once the database answers at a schema this version runs on, else 503
  GET  /version         {"app": "2.0", "schema": 2}
  GET  /notes           [{"id": 1, "body": "…"[, "title": "…", "created_at": "…"]}, …]
  POST /notes           body: raw UTF-8 text (1.0, 2.0) or JSON {"title", "body"} (2.0) → 201 {"id": N}
  GET  /notes/<id>      the note, or 404
  DELETE /notes/<id>    204, or 404
"""

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

VERSION = os.environ.get("NOTEBOOK_VERSION", "1.0")
MIGRATIONS = {
    1: [
        "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)",
    ],
    2: [
        "ALTER TABLE notes ADD COLUMN title text NOT NULL DEFAULT ''",
        "ALTER TABLE notes ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()",
    ],
}
SCHEMA = {"1.0": 1, "2.0": 2}[VERSION]
# The schemas each version runs on: its own, and (1.0) schema 2, whose migration only added
# columns with defaults that 1.0 neither reads nor has to write.
READS = {"1.0": {1, 2}, "2.0": {2}}[VERSION]


def connect():
    with open(os.environ["DB_PASSWORD_FILE"]) as f:
        password = f.read()
    return psycopg2.connect(
        host=os.environ.get("DB_HOST", "db"),
        dbname=os.environ.get("DB_NAME", "notebook"),
        user=os.environ.get("DB_USER", "notebook"),
        password=password,
        connect_timeout=3,
    )


def current_schema(cur):
    cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)")
    cur.execute("SELECT max(version) FROM schema_version")
    return cur.fetchone()[0] or 0


def migrate():
    """Waits for the database, then applies the migrations this version knows."""
    while True:
        try:
            conn = connect()
            break
        except psycopg2.OperationalError as e:
            print(f"notebook {VERSION}: waiting for the database: {e}".strip(), file=sys.stderr)
            time.sleep(1)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(7353)")
        have = current_schema(cur)
        for version in range(have + 1, SCHEMA + 1):
            for sql in MIGRATIONS[version]:
                cur.execute(sql)
            cur.execute("INSERT INTO schema_version VALUES (%s)", (version,))
            print(f"notebook {VERSION}: migrated the schema to version {version}", file=sys.stderr)
        if have > SCHEMA and have not in READS:
            raise SystemExit(f"notebook {VERSION}: the database has schema {have}, newer than this app's {SCHEMA}")
    conn.close()


def note_row(row):
    note = {"id": row[0], "body": row[1]}
    if SCHEMA >= 2:
        note["title"] = row[2]
        note["created_at"] = row[3].isoformat()
    return note


COLUMNS = "id, body" if SCHEMA < 2 else "id, body, title, created_at"


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, payload=None):
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def note_id(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "notes" and parts[1].isdigit():
            return int(parts[1])
        return None

    def do_GET(self):
        try:
            if self.path == "/health":
                with connect() as conn, conn.cursor() as cur:
                    ok = current_schema(cur) in READS
                return self.reply(200 if ok else 503, {"schema_current": ok})
            if self.path == "/version":
                return self.reply(200, {"app": VERSION, "schema": SCHEMA})
            if self.path == "/notes":
                with connect() as conn, conn.cursor() as cur:
                    cur.execute(f"SELECT {COLUMNS} FROM notes ORDER BY id")
                    return self.reply(200, [note_row(r) for r in cur.fetchall()])
            nid = self.note_id()
            if nid is not None:
                with connect() as conn, conn.cursor() as cur:
                    cur.execute(f"SELECT {COLUMNS} FROM notes WHERE id = %s", (nid,))
                    row = cur.fetchone()
                return self.reply(200, note_row(row)) if row else self.reply(404, {"error": "no such note"})
            return self.reply(404, {"error": "no such page"})
        except psycopg2.Error as e:
            return self.reply(503, {"error": str(e).strip()})

    def do_POST(self):
        if self.path != "/notes":
            return self.reply(404, {"error": "no such page"})
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
        title, body = "", raw
        if SCHEMA >= 2 and self.headers.get("Content-Type", "").startswith("application/json"):
            data = json.loads(raw)
            title, body = data.get("title", ""), data["body"]
        with connect() as conn, conn.cursor() as cur:
            if SCHEMA >= 2:
                cur.execute("INSERT INTO notes (title, body) VALUES (%s, %s) RETURNING id", (title, body))
            else:
                cur.execute("INSERT INTO notes (body) VALUES (%s) RETURNING id", (body,))
            return self.reply(201, {"id": cur.fetchone()[0]})

    def do_DELETE(self):
        nid = self.note_id()
        if nid is None:
            return self.reply(404, {"error": "no such page"})
        with connect() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM notes WHERE id = %s", (nid,))
            return self.reply(204) if cur.rowcount else self.reply(404, {"error": "no such note"})

    def log_message(self, fmt, *args):
        print(f"notebook {VERSION}: {self.address_string()} {fmt % args}", file=sys.stderr)


if __name__ == "__main__":
    migrate()
    print(f"notebook {VERSION}: serving on :8080 (schema {SCHEMA})", file=sys.stderr)
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
