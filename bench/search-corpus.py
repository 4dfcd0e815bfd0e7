"""Fills a migrated (empty) Wharf SQLite database with N published projects
for bench/search: names and summaries drawn from a fixed vocabulary, one
release and one file row each. Rows only: no blobs are needed to search."""
import random
import sqlite3
import sys
import time

ADJ = "fast tiny async secure simple smart shiny robust lazy quick modern typed safe clean".split()
NOUN = "http json yaml cache queue parser client server crypto image audio graph table config logger".split()
WORDS = ("toolkit library helpers bindings framework utilities wrapper engine driver adapter "
         "testing metrics tracing streaming storage database network protocol schema").split()


def main(db_path: str, count: int) -> None:
    rng = random.Random(42)
    con = sqlite3.connect(db_path)
    now = int(time.time() * 1_000_000)
    con.execute("INSERT INTO users (name, name_lower, is_admin, created_at) VALUES ('bench', 'bench', 0, ?)", (now,))
    user_id = con.execute("SELECT id FROM users WHERE name = 'bench'").fetchone()[0]
    with con:
        for i in range(count):
            name = f"{rng.choice(ADJ)}-{rng.choice(NOUN)}-{i}"
            summary = " ".join(rng.sample(WORDS, 4)) + f" for {rng.choice(NOUN)}"
            cur = con.execute(
                "INSERT INTO projects (name, normalized, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (name, name, now, now))
            pid = cur.lastrowid
            cur = con.execute(
                "INSERT INTO releases (project_id, version, summary, created_at) VALUES (?, '1.0', ?, ?)",
                (pid, summary, now))
            rid = cur.lastrowid
            con.execute(
                "INSERT INTO files (project_id, release_id, filename, kind, python_tag, size, sha256, blake2_256,"
                " md5, status, uploaded_at, uploader_id) VALUES (?, ?, ?, 'sdist', 'source', 1, ?, ?, ?,"
                " 'published', ?, ?)",
                (pid, rid, f"{name.replace('-', '_')}-1.0.tar.gz", f"{i:064x}", f"{i:064x}", f"{i:032x}", now, user_id))
            con.execute("INSERT INTO project_search (project_id, name, summary) VALUES (?, ?, ?)",
                        (pid, name, summary))
    print(f"{count} projects in {db_path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
