#!/usr/bin/env bash
# Page render benchmark (issue 12): server-side render time of the pages at N collaborations.
# Not run by CI: its figures are for issue notes.
#
#   scripts/pages-load.sh                          # SQLite, 10 000 collaborations
#   N=10000 PG=postgres://postgres@127.0.0.1:5432 scripts/pages-load.sh
#   N=2000 DUR=2s PROFILE=debug scripts/pages-load.sh  # proves the script runs; no figures from it
#
# Seeds the database once (examples/seed.rs; kept between runs, shared with scripts/load.sh), starts
# the release server, signs in on the sign-in page like a browser (a cookie session), and measures each
# page with wrk at CONN connections for DUR. wrk's latency is the time from request to the last byte
# of the rendered page on the loopback: the render time plus the queueing CONN connections cause on
# two cores; at CONN=1 it is the render time alone.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
CONN=${CONN:-4}
DUR=${DUR:-10s}
THREADS=${THREADS:-2}
PORT=${PORT:-18081}
DATA=${DATA:-/tmp/samverkan-load}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
mkdir -p "$DATA"
# The figures are the release build's; PROFILE=debug only checks that the script works end to end.
PROFILE=${PROFILE:-release}
case $PROFILE in
  release) cargo build --release --bin samverkan --example seed ;;
  debug) cargo build --bin samverkan --example seed ;;
  *) echo "PROFILE is release or debug" >&2; exit 2 ;;
esac
BIN=${CARGO_TARGET_DIR:-target}/$PROFILE
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
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
DATABASE_URL=$url SAMVERKAN_ADDR=127.0.0.1:$PORT SAMVERKAN__LOG__LEVEL=warn \
  "$BIN/samverkan" serve 2>"$DATA/pages-server-$N.log" & pid=$!
B=http://127.0.0.1:$PORT
for _ in $(seq 1 300); do curl -fs "$B/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
# A cookie session per account, from the sign-in page's form.
cookie() {
  curl -fs -o /dev/null -D - -X POST -H "Origin: $B" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "account=$1&next=/collaborations" \
    "$B/sign-in" | tr -d '\r' | awk -F'[:;] *' 'tolower($1)=="set-cookie" {print $2; exit}'
}
company=$(cookie company); legal=$(cookie legal); admin=$(cookie admin); finance=$(cookie finance)
holder=$(cookie register-holder)
one=$(curl -fs -H "Cookie: $company" "$B/collaborations" | grep -o 'href="/collaborations/[0-9a-f-]*"' | head -1 | sed 's/href="\(.*\)"/\1/')
[ -n "$one" ] || { echo "no collaboration on the company's list page" >&2; exit 1; }
printf '== %s collaborations (%s), wrk -t%s -c%s -d%s, load %s\n' "$N" \
  "$([ -n "${PG:-}" ] && echo PostgreSQL || echo SQLite)" "$THREADS" "$CONN" "$DUR" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %10s %10s %10s %10s\n' page req/s p50 p99 non-2xx
measure() {
  local name=$1 path=$2 c=$3 out
  out=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency -H "Cookie: $c" "$B$path")
  printf '%-34s %10s %10s %10s %10s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)"
}
measure "sign-in page" "/sign-in" ""
measure "list (company)" "/collaborations" "$company"
measure "list (admin, all)" "/collaborations" "$admin"
measure "list filtered by step" "/collaborations?step=preparation" "$company"
measure "case page (company)" "$one" "$company"
missed=0
for p in "/intake|$company" "/queue|$legal" "/feasibility|$holder" "/finance|$finance" "/invoices|$finance" "/admin|$admin"; do
  path=${p%%|*}; c=${p#*|}
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $c" "$B$path")
  if [ "$code" = 200 ]; then measure "$path" "$path" "$c"
  else echo "$path answered HTTP $code: not measured" >&2; missed=1; fi
done
[ "$PROFILE" = release ] || echo "($PROFILE build: these figures are not the pages' speed)"
exit "$missed"
