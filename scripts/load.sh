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
cargo build --release --bin samverkan --example hello --example seed
BIN=${CARGO_TARGET_DIR:-target}/release
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_for() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "no answer from $1" >&2; return 1; }

# measure NAME URL [TOKEN] -> prints "NAME req/s p99" and stores them
declare -A RPS P99 FIRST
measure() {
  local name=$1 url=$2 token=${3:-}
  local out
  if [ -n "$token" ]; then
    out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency -H "Authorization: Bearer $token" "$url")
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
      || { psql "$PG/postgres" -c "CREATE DATABASE $db" >/dev/null; DATABASE_URL="$PG/$db" "$BIN/examples/seed" "$N"; }
    url="$PG/$db"
  else
    file="$DATA/load-$N.db"
    [ -e "$file" ] || DATABASE_URL="sqlite://$file" "$BIN/examples/seed" "$N"
    url="sqlite://$file"
  fi
  HELLO_ADDR=127.0.0.1:$HELLO_PORT "$BIN/examples/hello" & pids+=($!)
  DATABASE_URL=$url SAMVERKAN_ADDR=127.0.0.1:$PORT SAMVERKAN__LOG__LEVEL=warn \
    SAMVERKAN__AUTH__TOKEN_REQUESTS_PER_MINUTE=1000 "$BIN/samverkan" serve & pids+=($!)
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
  echo "== $N collaborations (${PG:+PostgreSQL}${PG:-SQLite}), wrk -t$THREADS -c$CONN -d$DUR"
  measure hello "http://127.0.0.1:$HELLO_PORT/"
  measure live "$B/health/live"
  measure me "$B/api/v1/me" "$company"
  measure one "$B/api/v1/collaborations/$one" "$company"
  measure list_company "$B/api/v1/collaborations" "$company"
  measure list_admin "$B/api/v1/collaborations" "$admin"
  measure list_deep "$B$deep" "$company"
  measure queue_cpua "$B/api/v1/collaborations?cpua=$cpua" "$legal"
  measure queue_due "$B/api/v1/collaborations?cpua=$cpua&sort=due" "$legal"
  measure overdue "$B/api/v1/collaborations?overdue=true" "$legal"
  measure by_step "$B/api/v1/collaborations?step=preparation" "$company"
  measure by_register "$B/api/v1/collaborations?register=$reg" "$admin"
  printf '%-14s %12s %10s %10s %10s\n' what req/s p99 "÷hello" "÷first"
  for k in hello live me one list_company list_admin list_deep queue_cpua queue_due overdue by_step by_register; do
    r=${RPS[$k]}; h=${RPS[hello]}
    vs_first="-"
    if [ -n "$first" ] && [ -n "${FIRST[$k]:-}" ]; then vs_first=$(awk -v a="$r" -v b="${FIRST[$k]}" 'BEGIN{printf "%.2f", a/b}'); fi
    printf '%-14s %12s %10s %10s %10s\n' "$k" "$r" "${P99[$k]}" "$(awk -v a="$r" -v b="$h" 'BEGIN{printf "%.3f", a/b}')" "$vs_first"
    [ -z "$first" ] && FIRST[$k]=$r
  done
  [ -z "$first" ] && first=$N
  du -h "${file:-/dev/null}" 2>/dev/null | tail -1 || true
  ps -o rss= -p "${pids[-1]}" | awk '{printf "server RSS: %.0f MB\n", $1/1024}'
  cleanup; pids=(); sleep 1
done
