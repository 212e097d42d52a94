# Accounts for the bench scripts (sourced; needs $work, a scratch folder, and $month, YYYY-MM):
#   signup PORT EMAIL [EXPENSES]  an owner with a family and EXPENSES expenses this month;
#                                 prints "cookie category month"
#   login PORT EMAIL              a new session for that owner; prints its cookie
signup() { # port email [expenses] -> prints "cookie category month"
  local port=$1 email=$2 count=${3:-12} jar="$work/jar-$RANDOM"
  curl -sf -c "$jar" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"correct horse battery\",\"display_name\":\"Bench\"}" \
    "http://127.0.0.1:$port/api/auth/register" >/dev/null
  curl -sf -b "$jar" -H 'content-type: application/json' \
    -d '{"name":"Bench","currency":"EUR","timezone":"UTC"}' "http://127.0.0.1:$port/api/families" >/dev/null
  local cat; cat="$(curl -sf -b "$jar" "http://127.0.0.1:$port/api/categories" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)"
  for i in $(seq 1 "$count"); do
    curl -sf -b "$jar" -H 'content-type: application/json' \
      -d "{\"category_id\":\"$cat\",\"amount_minor\":$((i * 137)),\"note\":\"item $i\",\"spent_on\":\"$month-01\"}" \
      "http://127.0.0.1:$port/api/expenses" >/dev/null
  done
  echo "$(grep hearth_session "$jar" | awk '{print $7}') $cat $month"
}

login() { # port email -> cookie
  local port=$1 email=$2 jar="$work/jar-$RANDOM"
  curl -sf -c "$jar" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"correct horse battery\"}" "http://127.0.0.1:$port/api/auth/login" >/dev/null
  grep hearth_session "$jar" | awk '{print $7}'
}

run() { # label url cookie|none [extra wrk args]
  local label=$1 url=$2 cookie=$3; shift 3
  local jar=(-H "Cookie: hearth_session=$cookie")
  [ "$cookie" = none ] && jar=()   # signed out: no cookie at all
  local out; out="$(wrk -t1 -c"$conns" -d"${secs}s" --latency "${jar[@]}" "$@" "$url")"
  local rps p50 p99
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  p50="$(echo "$out" | awk '$1=="50%" {print $2}')"
  p99="$(echo "$out" | awk '$1=="99%" {print $2}')"
  printf '%-34s %12s req/s   p50 %8s   p99 %8s\n' "$label" "$rps" "$p50" "$p99"
}
