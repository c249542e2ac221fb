#!/usr/bin/env bash
# Load benchmark (issue 10). Not run by CI: it takes minutes and its figures are for issue notes.
#
#   scripts/load.sh                       # SQLite at 10 k and 100 k collaborations
#   SIZES="10000 100000 1000000" scripts/load.sh
#   PG=postgres://postgres@127.0.0.1:5432 scripts/load.sh   # PostgreSQL (one database per size)
#
# For each size it seeds the database once (examples/seed.rs, through the storage layer; kept between
# runs), starts the release server, and measures each endpoint with wrk (apt-get install -y wrk) at
# CONN connections for DUR, beside a bare actix-web hello (examples/hello.rs) measured in the same
# run. Every figure is printed with its ratio to the hello and to the same figure at the first size.
# Then: creates through the API (POST, CREATE_CONN connections) beside the raw insert rate of the
# same INSERTs (examples/raw_create.rs, one transaction per create), storage per collaboration,
# and the server's peak RSS. Both add rows to the seeded database; that does not change the lists.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10000 100000"}
CONN=${CONN:-64}
DUR=${DUR:-10s}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
HELLO_PORT=${HELLO_PORT:-18090}
DATA=${DATA:-/tmp/samverkan-load}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
mkdir -p "$DATA"
CREATE_CONN=${CREATE_CONN:-8}
# Lists are measured below the list gate (pool size − 2 = 6 run at once, the rest wait 250 ms and
# get 503): their figure is the latency of one list, not of a queue in front of the gate.
LIST_CONN=${LIST_CONN:-4}
RAW_CREATES=${RAW_CREATES:-2000}
cargo build --release --bin samverkan --example hello --example seed --example raw_create
BIN=${CARGO_TARGET_DIR:-target}/release
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_for() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "no answer from $1" >&2; return 1; }

# measure NAME URL [TOKEN [WRK-ARGS...]] -> stores NAME's req/s and p99
declare -A RPS P99 FIRST
measure() {
  local name=$1 url=$2 token=${3:-}
  shift 3 2>/dev/null || shift $#
  local out
  if [ -n "$token" ]; then
    out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency -H "Authorization: Bearer $token" "$@" "$url")
  else
    out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$url")
  fi
  local rps p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  RPS[$name]=$rps; P99[$name]=$p99
  if [ -n "$non2xx" ]; then echo "  ($name: $non2xx responses were not 2xx)" >&2; fi
}

first=""
for N in $SIZES; do
  if [ -n "${PG:-}" ]; then
    db="samverkan_load_$N"
    psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
      || { psql "$PG/postgres" -c "CREATE DATABASE $db" >/dev/null;
           DATABASE_URL="$PG/$db" "$BIN/examples/seed" "$N" \
             || { psql "$PG/postgres" -c "DROP DATABASE $db" >/dev/null; exit 1; }; }
    url="$PG/$db"
  else
    file="$DATA/load-$N.db"
    [ -e "$file" ] || DATABASE_URL="sqlite://$file" "$BIN/examples/seed" "$N" || { rm -f "$file"*; exit 1; }
    url="sqlite://$file"
  fi
  # Storage per collaboration (with its events, projections and indexes), before the creates below.
  if [ -n "${PG:-}" ]; then
    # The tables with their indexes and TOAST (pg_total_relation_size), not the empty database's catalog.
    bytes=$(psql "$url" -tAc "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
  else
    bytes=$({ stat -c %s "$file" "$file-wal" 2>/dev/null || true; } | awk '{s+=$1} END {print s}')
  fi
  HELLO_ADDR=127.0.0.1:$HELLO_PORT "$BIN/examples/hello" & pids+=($!)
  DATABASE_URL=$url SAMVERKAN_ADDR=127.0.0.1:$PORT SAMVERKAN__LOG__LEVEL=warn \
    SAMVERKAN__AUTH__TOKEN_REQUESTS_PER_MINUTE=1000 "$BIN/samverkan" serve 2>"$DATA/server-$N.log" & pids+=($!)
  wait_for "http://127.0.0.1:$PORT/health/ready"; wait_for "http://127.0.0.1:$HELLO_PORT/"
  B=http://127.0.0.1:$PORT
  tok() { curl -fs -X POST -H 'Content-Type: application/json' -d "{\"account\":\"$1\"}" "$B/api/v1/local/token" | jq -r .token; }
  company=$(tok company); admin=$(tok admin); legal=$(tok legal)
  cpua=$(curl -fs -H "Authorization: Bearer $admin" "$B/api/v1/organisations?kind=cpua_authority&per_page=200" | jq -r '.items[] | select(.name=="Region Uppsala") | .id')
  reg=$(curl -fs -H "Authorization: Bearer $admin" "$B/api/v1/registers?per_page=200" | jq -r '.items[0].id')
  one=$(curl -fs -H "Authorization: Bearer $company" "$B/api/v1/collaborations?per_page=1" | jq -r '.items[0].id')
  # A deep page: follow next 40 times at 200 a page (8,000 rows in), then time that page.
  deep="/api/v1/collaborations?per_page=50"
  for _ in $(seq 1 40); do
    nxt=$(curl -fs -H "Authorization: Bearer $company" "$B${deep/per_page=50/per_page=200}" | jq -r '.next // empty')
    [ -z "$nxt" ] && break
    deep=${nxt/per_page=200/per_page=50}
  done
  echo "== $N collaborations ($([ -n "${PG:-}" ] && echo PostgreSQL || echo SQLite)), wrk -t$THREADS -c$CONN -d$DUR (lists -c$LIST_CONN, create -c$CREATE_CONN), load $(cut -d' ' -f1-3 /proc/loadavg)"
  measure hello "http://127.0.0.1:$HELLO_PORT/"
  measure live "$B/health/live"
  measure me "$B/api/v1/me" "$company"
  measure one "$B/api/v1/collaborations/$one" "$company"
  CONN=$LIST_CONN measure list_company "$B/api/v1/collaborations" "$company"
  CONN=$LIST_CONN measure list_admin "$B/api/v1/collaborations" "$admin"
  CONN=$LIST_CONN measure list_deep "$B$deep" "$company"
  CONN=$LIST_CONN measure queue_cpua "$B/api/v1/collaborations?cpua=$cpua" "$legal"
  CONN=$LIST_CONN measure queue_due "$B/api/v1/collaborations?cpua=$cpua&sort=due" "$legal"
  CONN=$LIST_CONN measure overdue "$B/api/v1/collaborations?overdue=true" "$legal"
  CONN=$LIST_CONN measure by_step "$B/api/v1/collaborations?step=preparation" "$company"
  CONN=$LIST_CONN measure by_register "$B/api/v1/collaborations?register=$reg" "$admin"
  # Every list must answer full pages: a short or failing one is a broken benchmark, not a figure.
  for q in "$company|" "$admin|" "$legal|cpua=$cpua" "$legal|cpua=$cpua&sort=due" "$legal|overdue=true" \
           "$company|step=preparation" "$admin|register=$reg"; do
    n=$(curl -fs -H "Authorization: Bearer ${q%%|*}" "$B/api/v1/collaborations?per_page=50&${q#*|}" | jq '.items | length')
    [ "$n" = 50 ] || echo "  (list ${q#*|}: $n items on the first page, not 50)" >&2
  done
  cat > "$DATA/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"Lasttest","purpose":"Att mäta skapandet.","registers":["$reg"],"requested_variables":["alder","kon"],"data_kind":"aggregated"}'
LUA
  CONN=$CREATE_CONN measure create "$B/api/v1/collaborations" "$company" -s "$DATA/create.lua"
  rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/${pids[-1]}/status")
  cleanup; pids=(); sleep 1
  raw=$(DATABASE_URL=$url "$BIN/examples/raw_create" "$RAW_CREATES" | awk '{print $(NF)}' | tr -d '/s')
  RPS[raw_create]=$raw; P99[raw_create]=-
  printf '%-14s %12s %10s %10s %10s\n' what req/s p99 "÷hello" "÷first"
  for k in hello live me one list_company list_admin list_deep queue_cpua queue_due overdue by_step by_register create raw_create; do
    r=${RPS[$k]}; h=${RPS[hello]}
    vs_first="-"
    if [ -n "$first" ] && [ -n "${FIRST[$k]:-}" ]; then vs_first=$(awk -v a="$r" -v b="${FIRST[$k]}" 'BEGIN{printf "%.2f", a/b}'); fi
    printf '%-14s %12s %10s %10s %10s\n' "$k" "$r" "${P99[$k]}" "$(awk -v a="$r" -v b="$h" 'BEGIN{printf "%.3f", a/b}')" "$vs_first"
    [ -z "$first" ] && FIRST[$k]=$r
  done
  [ -z "$first" ] && first=$N
  awk -v r="${RPS[create]}" -v w="$raw" 'BEGIN{printf "create ÷ raw insert rate: %.2f\n", r/w}'
  awk -v b="$bytes" -v n="$N" 'BEGIN{printf "storage: %.0f MB, %.0f bytes a collaboration\n", b/1048576, b/n}'
  echo "server peak RSS: $rss MB"
done
