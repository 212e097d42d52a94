#!/usr/bin/env bash
# Tries the deployment of DEPLOY.md on this machine, with the files it describes: two Hearth
# servers (the release binary, each alone in an empty folder) on one PostgreSQL database and
# Redis Sentinel (a master, a replica, three sentinels; the master is killed at the end), behind nginx with deploy/nginx.conf (a self-signed certificate for 127.0.0.1),
# and deploy/hearth.service checked by systemd-analyze. Prints each check; exits non-zero on
# the first that fails. Needs: the release build, nginx, openssl, curl, psql, redis-server.
# Uses a database of its own on the local PostgreSQL (dropped at the end) and its own Redis.
# Needs redis-cli too.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${HEARTH_BIN:-$PWD/target/release/hearth}"
work="$(mktemp -d)"
pg="${HEARTH_TEST_POSTGRES_ADMIN:-postgres://postgres@127.0.0.1:5432/test}"
db="hearth_deploy_$$"
pids=()
cleanup() {
  for p in "${pids[@]}" ${master_pid:-}; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  psql -q "$pg" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  psql -q "$pg" -c "DROP DATABASE IF EXISTS ${db}_restored" >/dev/null 2>&1 || true
}
trap cleanup EXIT
ok() { printf '  \033[32mok\033[0m  %s\n' "$*"; }
fail() { printf '  \033[31mFAILED\033[0m  %s\n' "$*"; for f in "$work"/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; fail "$1 did not answer"; }

tls=$(free_port); http=$(free_port); pa=$(free_port); pb=$(free_port); rport=$(free_port)
origin="https://127.0.0.1:$tls"

echo "systemd unit"
sed "s#/usr/local/bin/hearth#$bin#" deploy/hearth.service > "$work/hearth.service"
# It exits 0 even when it ignores a line it cannot parse: nothing printed is the pass.
if out=$(systemd-analyze verify "$work/hearth.service" 2>&1) && [[ -z $out ]]; then
  ok "systemd-analyze verify: no complaints"
else fail "systemd-analyze verify: $out"; fi

echo "two servers on PostgreSQL and Redis Sentinel (a master, a replica, three sentinels)"
psql -q "$pg" -c "CREATE DATABASE $db" >/dev/null
replica=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
master_pid=$!
redis-server --port "$replica" --bind 127.0.0.1 --save '' --appendonly no \
  --replicaof 127.0.0.1 "$rport" >"$work/redis-replica.log" 2>&1 &
pids+=($!)
sentinels=()
for _ in 1 2 3; do
  sp=$(free_port)
  printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor hearth 127.0.0.1 %s 2\nsentinel down-after-milliseconds hearth 1000\nsentinel failover-timeout hearth 3000\n' \
    "$sp" "$work" "$rport" > "$work/sentinel-$sp.conf"
  redis-server "$work/sentinel-$sp.conf" --sentinel >"$work/sentinel-$sp.log" 2>&1 &
  pids+=($!)
  sentinels+=("127.0.0.1:$sp")
done
for _ in $(seq 1 100); do
  redis-cli -p "${sentinels[0]##*:}" sentinel replicas hearth 2>/dev/null | grep -q "$replica" && break
  sleep 0.1
done
sentinel_list=$(IFS=,; echo "${sentinels[*]}")
for port in "$pa" "$pb"; do
  mkdir "$work/$port" && cp "$bin" "$work/$port/hearth"
  (cd "$work/$port" && DATABASE_URL="${pg%/*}/$db" REDIS_SENTINELS="$sentinel_list" \
    REDIS_SENTINEL_MASTER=hearth LEPTOS_SITE_ADDR="127.0.0.1:$port" TRUSTED_PROXIES=127.0.0.1 exec ./hearth) \
    >"$work/hearth-$port.log" 2>&1 &
  pids+=($!)
done
wait_for "http://127.0.0.1:$pa/readyz"; wait_for "http://127.0.0.1:$pb/readyz"
ok "both ready (each binary alone in an empty folder)"

echo "nginx in front (deploy/nginx.conf)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
sed -e "s#/etc/letsencrypt/live/budget.example.org/fullchain.pem#$work/cert.pem#" \
    -e "s#/etc/letsencrypt/live/budget.example.org/privkey.pem#$work/key.pem#" \
    -e "s#listen 80;#listen 127.0.0.1:$http;#" -e "s#listen 443 ssl http2;#listen 127.0.0.1:$tls ssl http2;#" \
    -e "s#127.0.0.1:3000#127.0.0.1:$pa#" -e "s#127.0.0.1:3001#127.0.0.1:$pb#" \
    deploy/nginx.conf > "$work/site.conf"
mkdir -p "$work/nginx-tmp"
cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events {}
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp; uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  include $work/site.conf;
}
CONF
nginx -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$http/"  || true
c() { curl -sk --max-time 10 "$@"; }

status=$(c -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http/login")
[[ "$status" == "301 https://"* ]] && ok "plain http is sent to https ($status)" || fail "http: $status"
head=$(c -D - -o /dev/null -w 'http/%{http_version}' "$origin/login")
grep -qi '^strict-transport-security: max-age=63072000' <<<"$head" && ok "HSTS on https" || fail "no HSTS: $head"
grep -q 'http/2$' <<<"$head" && ok "HTTP/2 to the browser" || fail "not HTTP/2: $head"

email="deploy-$$@example.org"
json='content-type: application/json'
head=$(c -D - -o /dev/null -H "Origin: $origin" -H "$json" \
  -d "{\"email\":\"$email\",\"password\":\"correct horse battery\",\"display_name\":\"Deploy\"}" \
  "$origin/api/auth/register")
grep -q '^HTTP/2 201' <<<"$head" || fail "register: $head"
cookie=$(grep -i '^set-cookie:' <<<"$head" | head -1 | sed 's/^[^:]*: //; s/;.*//')
grep -i '^set-cookie:' <<<"$head" | grep -q '; Secure' && ok "registered; the session cookie is Secure behind https" || fail "cookie not Secure: $head"
code=$(c -o /dev/null -w '%{http_code}' -H "Origin: $origin" -H "$json" -b "$cookie" \
  -d '{"name":"Deployed","currency":"EUR","timezone":"Europe/Berlin"}' "$origin/api/families")
[[ $code == 201 ]] && ok "a change through the proxy passes the Origin check (201)" || fail "create family: $code"
code=$(c -o /dev/null -w '%{http_code}' -H "Origin: https://evil.example" -H "$json" -b "$cookie" \
  -d '{"name":"x","color":"#112233"}' "$origin/api/categories")
[[ $code == 403 ]] && ok "a change from another site is refused (403)" || fail "foreign origin: $code"

upgrade=$(c --http1.1 -i -N --max-time 2 -b "$cookie" -H "Origin: $origin" \
  -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$origin/ws" || true)
grep -q '^HTTP/1.1 101' <<<"$upgrade" && ok "the WebSocket upgrade passes through (101)" || fail "ws: $upgrade"

category=$(c -b "$cookie" "$origin/api/categories" | python3 -c 'import json,sys; print(json.load(sys.stdin)["categories"][0]["id"])')
code=$(c -o /dev/null -w '%{http_code}' -H "Origin: $origin" -H "$json" -b "$cookie" \
  -d "{\"category_id\":\"$category\",\"amount_minor\":1234}" "$origin/api/expenses")
[[ $code == 201 ]] || fail "expense: $code"
spent() { curl -s -H "Cookie: $cookie" "http://127.0.0.1:$1/api/budgets" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["spent_minor"])'; }
[[ $(spent "$pa") == 1234 && $(spent "$pb") == 1234 ]] && ok "an expense made through the proxy is on both servers (one database, one session store)" || fail "servers disagree"

# PostgreSQL's backup tools, as DEPLOY.md gives them: dump while serving, restore into a new
# database, a third server on it shows the same totals.
pg_dump --format=custom --file="$work/hearth.dump" "${pg%/*}/$db"
psql -q "$pg" -c "CREATE DATABASE ${db}_restored" >/dev/null
pg_restore --no-owner --dbname="${pg%/*}/${db}_restored" "$work/hearth.dump"
pc=$(free_port); mkdir "$work/$pc" && cp "$bin" "$work/$pc/hearth"
(cd "$work/$pc" && DATABASE_URL="${pg%/*}/${db}_restored" LEPTOS_SITE_ADDR="127.0.0.1:$pc" exec ./hearth) \
  >"$work/hearth-$pc.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$pc/readyz"
restored=$(curl -s -D - -o /dev/null -H "$json" -d "{\"email\":\"$email\",\"password\":\"correct horse battery\"}" \
  "http://127.0.0.1:$pc/api/auth/login" | grep -i '^set-cookie:' | head -1 | sed 's/^[^:]*: //; s/;.*//')
[[ $(curl -s -H "Cookie: $restored" "http://127.0.0.1:$pc/api/budgets" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["spent_minor"])') == 1234 ]] \
  && ok "pg_dump while serving, pg_restore into a new database: a server on it has the same totals" || fail "pg restore"

# Sign-in limits count the browser, not nginx: 20 failures from 127.0.0.2 (each claiming
# another address in X-Forwarded-For, which is not believed) limit 127.0.0.2 only.
for i in $(seq 1 20); do
  c --interface 127.0.0.2 -o /dev/null -H "$json" -H "X-Forwarded-For: 198.51.100.$i" \
    -d "{\"email\":\"nobody$i-$$@example.org\",\"password\":\"wrong password\"}" "$origin/api/auth/login"
done
code=$(c --interface 127.0.0.2 -o /dev/null -w '%{http_code}' -H "$json" -H "X-Forwarded-For: 198.51.100.99" \
  -d "{\"email\":\"nobody-$$@example.org\",\"password\":\"wrong password\"}" "$origin/api/auth/login")
[[ $code == 429 ]] && ok "20 failed sign-ins from one client limit it (429), whatever it forwards" || fail "limit: $code"
code=$(c --interface 127.0.0.3 -o /dev/null -w '%{http_code}' -H "$json" \
  -d "{\"email\":\"nobody-$$@example.org\",\"password\":\"wrong password\"}" "$origin/api/auth/login")
[[ $code == 401 ]] && ok "another client behind the same proxy is not limited (401)" || fail "other client: $code"

# SIGTERM drains one server; nginx sends everything to the other.
server_a="${pids[4]}"
kill -TERM "$server_a"
start=$(date +%s%N)
wait "$server_a" && drained=$? || drained=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $drained == 0 ]] && ok "SIGTERM: the first server drained and exited 0 in $ms ms" || fail "exit $drained"
bad=0
for _ in $(seq 1 20); do
  code=$(c -o /dev/null -w '%{http_code}' -b "$cookie" "$origin/api/budgets")
  [[ $code == 200 ]] || bad=$((bad + 1))
done
[[ $bad == 0 ]] && ok "20 requests after it stopped: all 200 from the other server" || fail "$bad of 20 failed"
# The Redis master dies: the sentinels promote the replica and the server follows it.
kill "$master_pid"
for _ in $(seq 1 150); do
  redis-cli -p "$replica" info replication 2>/dev/null | grep -q 'role:master' && break
  sleep 0.1
done
redis-cli -p "$replica" info replication | grep -q 'role:master' || fail "no failover"
for _ in $(seq 1 100); do
  curl -s "http://127.0.0.1:$pb/readyz" | grep -q '"redis":"up"' && break
  sleep 0.1
done
code=$(c -o /dev/null -w '%{http_code}' -H "Origin: $origin" -H "$json" -b "$cookie" \
  -d "{\"category_id\":\"$category\",\"amount_minor\":66}" "$origin/api/expenses")
[[ $code == 201 && $(spent "$pb") == 1300 ]] \
  && ok "Sentinel failed the Redis master over: the server follows the new master, writes and reads go on" \
  || fail "after the failover: $code, $(spent "$pb")"
echo "deployment tried: every check passed"
