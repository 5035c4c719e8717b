#!/bin/sh
# Runs every fuzz target in turn for SECONDS each (default 600), one at a time, each with its
# seeds (seeds/TARGET) and the corpus it grows (corpus/TARGET); logs to logs/TARGET.log.
# Build first (`cargo fuzz build --sanitizer none`); the targets run as built.
# Usage, from this folder: ./run-all.sh [SECONDS] [TARGET…]
set -u
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"xlsx xls csv cell codes amount"}
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in $targets; do
  mkdir -p "corpus/$t" "artifacts/$t"
  case $t in
    xlsx|xls) max_len=131072 ;;
    csv) max_len=16384 ;;
    *) max_len=256 ;;
  esac
  echo "== $t: $seconds s, max_len $max_len, started $(date -u '+%Y-%m-%d %H:%M:%S') UTC" | tee "logs/$t.log"
  "$bin/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" -max_len="$max_len" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "corpus/$t" "seeds/$t" >>"logs/$t.log" 2>&1
  echo "== $t: exit $?, ended $(date -u '+%Y-%m-%d %H:%M:%S') UTC, corpus $(ls "corpus/$t" | wc -l) files" | tee -a "logs/$t.log"
done
