#!/usr/bin/env bash
# Throughput of explanation jobs on NATS JetStream against a local run, on this machine, in one interleaved run:
# pictures per second of `scorecam explain --out-dir` and of `scorecam submit` with 1 and 2 `scorecam worker`
# processes (each round on a fresh nats-server store, workers started and waiting before the clock starts), the
# ratios of the medians, and the queue's share of the time per item with one worker: 1 - local time / 1-worker time.
# Usage: tools/bench/jobs.sh [PICTURES (default 60)] [ROUNDS (default 3)] [METHOD (default scorecam)]
# Needs nats-server on PATH or in /usr/sbin (Debian: apt-get install nats-server).
set -euo pipefail
cd "$(dirname "$0")/../.."
pictures=${1:-60} rounds=${2:-3} method=${3:-scorecam}
server=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$server" ] || { echo "nats-server not found: apt-get install nats-server" >&2; exit 1; }

dotnet build -c Release src/ScoreCam.Onnx.Cli -v q -nologo >/dev/null
cli=src/ScoreCam.Onnx.Cli/bin/Release/net10.0/scorecam.dll
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/pictures"
copied=0
for f in onnx-models/eval/single/*.png; do
  [ "$copied" -lt "$pictures" ] || break
  cp "$f" "$work/pictures/"; copied=$((copied + 1))
done

now() { date +%s.%N; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Seconds for a local run of the pictures.
local_run() {
  local t0; t0=$(now)
  dotnet "$cli" explain --image "$work/pictures" --method "$method" --out-dir "$work/local" --quiet >/dev/null
  echo "$(now) - $t0" | bc
}

# Seconds for a submitted job with $1 workers (a fresh server and store; workers ready before the clock starts).
job_run() {
  local n=$1 p store t0 t log
  p=$(port); store=$(mktemp -d -p "$work")
  "$server" -js -a 127.0.0.1 -p "$p" -sd "$store" >/dev/null 2>&1 & local server_pid=$!; pids+=("$server_pid")
  sleep 0.5
  local workers=()
  for i in $(seq "$n"); do
    log="$store/worker$i.log"
    dotnet "$cli" worker --nats "nats://127.0.0.1:$p" >"$log" 2>&1 & workers+=($!); pids+=($!)
    for _ in $(seq 300); do grep -q "waiting for items" "$log" && break; sleep 0.1; done
  done
  t0=$(now)
  dotnet "$cli" submit --nats "nats://127.0.0.1:$p" --image "$work/pictures" --method "$method" --out-dir "$store/out" --quiet >/dev/null
  t=$(echo "$(now) - $t0" | bc)
  for w in "${workers[@]}"; do kill "$w"; wait "$w" 2>/dev/null || true; done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  echo "$t"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$work/local.txt"; : >"$work/one.txt"; : >"$work/two.txt"
for r in $(seq "$rounds"); do
  local_run >>"$work/local.txt"
  job_run 1 >>"$work/one.txt"
  job_run 2 >>"$work/two.txt"
  echo "round $r: local $(tail -n1 "$work/local.txt") s, 1 worker $(tail -n1 "$work/one.txt") s, 2 workers $(tail -n1 "$work/two.txt") s" >&2
done
l=$(median <"$work/local.txt"); o=$(median <"$work/one.txt"); w=$(median <"$work/two.txt")
echo "pictures: $pictures, method: $method, rounds: $rounds, cores: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'local explain: %.2f s (%.2f pictures/s)\n' "$l" "$(echo "$pictures / $l" | bc -l)"
printf '1 worker:      %.2f s (%.2f pictures/s), %.2f x local\n' "$o" "$(echo "$pictures / $o" | bc -l)" "$(echo "$l / $o" | bc -l)"
printf '2 workers:     %.2f s (%.2f pictures/s), %.2f x local\n' "$w" "$(echo "$pictures / $w" | bc -l)" "$(echo "$l / $w" | bc -l)"
printf "queue's share of the time per item (1 worker): %.0f %%\n" "$(echo "100 * (1 - $l / $o)" | bc -l)"
