#!/usr/bin/env bash
# Search over a family with 50,000 expenses (issue 23): starts the release binary on a fresh
# SQLite file, signs up a family through the API, writes 50,000 expenses over three years
# straight into the database (WAL: the server keeps running), then times searches through
# the API as a browser sends them (session cookie, Accept-Encoding: br, gzip) with
# `Cache-Control: no-cache`, so each one is computed afresh, and once more cached.
# Prints p50 and p95 of 40 requests per query. Usage: bench/search.sh [expenses]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-50000}"
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
DATABASE_URL="sqlite://$work/hearth.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
  ./target/release/hearth >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
json='content-type: application/json'
cookie=$(curl -s -D - -o /dev/null -H "$json" \
  -d '{"email":"bench@example.org","password":"correct horse battery","display_name":"Bench"}' \
  "$base/api/auth/register" | grep -i '^set-cookie:' | sed 's/^[^:]*: //; s/;.*//' | tr -d '\r')
curl -s -o /dev/null -b "$cookie" -H "$json" -d '{"name":"Bench","currency":"EUR","timezone":"UTC"}' "$base/api/families"
python3 - "$work/hearth.db" "$n" <<'PY'
import random, sqlite3, sys, uuid, datetime
db, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
family, user = con.execute("SELECT family_id, id FROM users WHERE email='bench@example.org'").fetchone()
cats = [r[0] for r in con.execute("SELECT id FROM categories WHERE family_id=?", (family,))]
words = ["bread", "milk", "rent", "cinema", "bus", "coffee", "market", "pharmacy", "books",
         "shoes", "pizza", "petrol", "gift", "school", "dentist", "phone", "internet", "gym"]
random.seed(7)
start = datetime.date(2024, 1, 1)
rows = []
for i in range(n):
    day = start + datetime.timedelta(days=random.randrange(3 * 365))
    note = " ".join(random.sample(words, 2)) + f" #{i}"
    ms = 1_700_000_000_000 + i
    rows.append((str(uuid.uuid4()), family, random.choice(cats), random.randrange(50, 20000),
                 note, day.isoformat(), user, ms, ms, 1, f"bench-{i}"))
con.executemany("INSERT INTO expenses (id, family_id, category_id, amount_minor, note, spent_on, "
                "created_by, created_at, updated_at, version, body_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
con.commit()
print(f"wrote {n} expenses")
PY
category=$(curl -s -b "$cookie" "$base/api/categories" | python3 -c 'import json,sys; print(json.load(sys.stdin)["categories"][0]["id"])')
cursor=$(curl -s -b "$cookie" "$base/api/expenses?q=bread&limit=100" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
time_it() {
  local label="$1" path="$2"; shift 2
  for _ in $(seq 1 40); do
    curl -s -o /dev/null -w '%{time_total}\n' -b "$cookie" -H 'Accept-Encoding: br, gzip' "$@" "$base$path"
  done | python3 -c "
import sys; t = sorted(float(x) * 1000 for x in sys.stdin)
print(f'{sys.argv[1]:<44} p50 {t[len(t)//2]:6.2f} ms   p95 {t[int(len(t)*0.95)-1]:6.2f} ms')" "$label"
}
echo "search over $n expenses (release build, SQLite, $(nproc) cores)"
time_it "q=bread (100 of ~5,500), no-cache" "/api/expenses?q=bread&limit=100" -H 'Cache-Control: no-cache'
time_it "q=bread, page 2 by cursor, no-cache" "/api/expenses?q=bread&limit=100&cursor=$cursor" -H 'Cache-Control: no-cache'
time_it "q=#49999 (one match), no-cache" "/api/expenses?q=%2349999&limit=100" -H 'Cache-Control: no-cache'
time_it "q=zzz (no match: every note read), no-cache" "/api/expenses?q=zzz" -H 'Cache-Control: no-cache'
time_it "category + 100.00-150.00, no-cache" "/api/expenses?category_id=$category&min_minor=10000&max_minor=15000" -H 'Cache-Control: no-cache'
time_it "from/to one month, no-cache" "/api/expenses?from=2025-06-01&to=2025-06-30" -H 'Cache-Control: no-cache'
time_it "q=bread, cached (second and later)" "/api/expenses?q=bread&limit=100"
