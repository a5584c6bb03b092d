#!/usr/bin/env bash
# The benchmark matrix: for each store and stored-order count, a fresh server
# started by bin/bench, then the modes in turn; at the end one markdown table
# (store, stored orders, mode, rps, p50, p99, CPU/req, RSS) for the README.
#
# Stores: the embedded one always; MongoDB too when MONGODB_URI is set (the
# server gets a fresh database there, dropped afterwards). For a FerretDB
# reached directly, set MONGODB_UNSAFE_FERRETDB=true too: bin/bench passes it
# to the server, which otherwise refuses a store without atomic updates.
#
#   BENCH_N         requests per mode and cell       (default 2000)
#   BENCH_C         concurrency                      (default 16)
#   BENCH_PREFILLS  stored orders per cell           (default "0 5000 20000")
#   BENCH_MODES     modes, in the order they run     (default list,raw,unique,replay:
#                   list first, so it sees exactly the prefilled orders)
#   BENCH_OUT       where the JSON lines go          (default a temporary file)
#   BENCH_LABEL     MONGODB_URI's name in the table  (default mongodb)
#   BENCH_STORES    which stores                     (default "embedded", plus
#                   "mongodb" when MONGODB_URI is set)
#   BENCH_BIN / SERVER_BIN                           (default bin/bench, bin/server)
set -uo pipefail
cd "$(dirname "$0")/.."

n=${BENCH_N:-2000}
c=${BENCH_C:-16}
prefills=${BENCH_PREFILLS:-0 5000 20000}
modes=${BENCH_MODES:-list,raw,unique,replay}
bench=${BENCH_BIN:-bin/bench}
server=${SERVER_BIN:-bin/server}
out=${BENCH_OUT:-$(mktemp "${TMPDIR:-/tmp}/bench-XXXXXX.jsonl")}
: >"$out"

for bin in "$bench" "$server"; do
  [ -x "$bin" ] || { echo "bench.sh: $bin missing: run make build" >&2; exit 2; }
done

stores=(embedded)
[ -n "${MONGODB_URI:-}" ] && stores+=(mongodb)
if [ -n "${BENCH_STORES:-}" ]; then
  read -ra stores <<<"$BENCH_STORES"
  for store in "${stores[@]}"; do
    case $store in
      embedded) ;;
      mongodb) [ -n "${MONGODB_URI:-}" ] || { echo "bench.sh: BENCH_STORES=mongodb needs MONGODB_URI" >&2; exit 2; } ;;
      *) echo "bench.sh: BENCH_STORES: unknown store $store (embedded, mongodb)" >&2; exit 2 ;;
    esac
  done
fi

failed=0
interrupted=false
for store in "${stores[@]}"; do
  $interrupted && break
  for prefill in $prefills; do
    echo "== $store, $prefill stored orders: $modes, n=$n, c=$c" >&2
    label=$store
    [ "$store" = mongodb ] && label=${BENCH_LABEL:-mongodb}
    args=(-start-server -server-bin "$server" -prefill "$prefill" -mode "$modes" -n "$n" -c "$c" -json -label "$label")
    [ "$store" = mongodb ] && args+=(-mongo-uri "$MONGODB_URI")
    "$bench" "${args[@]}" >>"$out"
    rc=$?
    if [ $rc -ne 0 ]; then
      echo "bench.sh: $store at $prefill stored orders exited $rc" >&2
      failed=1
      # Ctrl-C: no more cells, but the table of those measured.
      [ $rc -eq 130 ] && { interrupted=true; break; }
    fi
  done
done

echo >&2
echo "results (JSON lines): $out" >&2
echo
"$bench" -table "$out"
echo
echo "c=$c, $n requests per mode; list: $(((n + 4) / 5)) per query (all, userId, status PAYMENT_FAILED, status CREATED, 50 pages deep)."
echo "CPU/req and RSS are the server process's (with the embedded store, that includes the store)."
$interrupted && exit 130
exit $failed
