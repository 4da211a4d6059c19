#!/usr/bin/env bash
# Runs the whole suite (npm run check: lint, type-check, unit and integration tests) and, beside
# it as local/test.sh runs it, the 3-minute soak with every fault on (bench/soak/), with
# CPU-bound processes beside them, as on a busy CI machine, and exits with their status.
#
#   bash local/test-loaded.sh [--load N] [--repeat N] [-- <vitest arguments>]
#
#   --load N     CPU-bound processes to run beside the suite, at normal priority (default 4;
#                0 runs the suite alone, timed the same way)
#   --repeat N   run the suite N times under the same load, stopping at the first failing round
#                (default 1)
#   -- ARGS      passed to vitest (npm run check -- -- ARGS), e.g. a file to repeat; the soak
#                is then left out
#
# The load processes are started by this script and stopped by it however the run ends
# (success, failure, Ctrl-C, SIGTERM, SIGHUP); each also stops by itself within about a
# second once this script is gone, even after a SIGKILL. On a signal the suite's process group
# gets SIGTERM, then SIGKILL 20 s later; if this script is killed outright, a watcher beside the
# suite does the same. Nothing else is signalled.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"

usage() {
  # The comment at the top of this file, without its hashes.
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

load=4
repeat=1
vitest_args=()
load_pids=()
suite_pid=''
watcher_pid=''
grace_seconds=20

# One load process: a pure CPU loop in bash (no children, no I/O) that checks every few
# hundredths of a second (unloaded) that this script still runs, and ends when it does not.
burn() {
  local parent="$1" i
  trap - INT TERM HUP EXIT
  while kill -0 "$parent" 2>/dev/null; do
    for ((i = 0; i < 20000; i++)); do :; done
  done
}

start_load() {
  local n
  for ((n = 0; n < load; n++)); do
    burn "$$" &
    load_pids+=("$!")
  done
}

stop_load() {
  [ "${#load_pids[@]}" -gt 0 ] || return 0
  kill -TERM "${load_pids[@]}" 2>/dev/null || true
  wait "${load_pids[@]}" 2>/dev/null || true
  load_pids=()
}

# CPU seconds the load processes have used so far (ps TIME: [DD-]HH:MM:SS or MM:SS.ss).
load_cpu_seconds() {
  [ "${#load_pids[@]}" -gt 0 ] || {
    echo 0
    return
  }
  local list
  list="$(
    IFS=,
    echo "${load_pids[*]}"
  )"
  { ps -o time= -p "$list" 2>/dev/null || true; } | awk '
    {
      t = $1; d = 0
      if (index(t, "-")) { split(t, p, "-"); d = p[1]; t = p[2] }
      n = split(t, f, ":"); s = 0
      for (i = 1; i <= n; i++) s = s * 60 + f[i]
      total += d * 86400 + s
    }
    END { printf "%d\n", total }'
}

loadavg() {
  if [ -r /proc/loadavg ]; then cut -d' ' -f1-3 /proc/loadavg; else uptime | sed 's/.*load averages*: //'; fi
}

duration() {
  printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# Stops what is left of the suite's process group (it runs in its own, set -m below: npm,
# vitest, its workers, the emulator and the service processes the tests start): SIGNAL, then
# SIGKILL after the grace period.
stop_group() {
  local group="$1" signal="$2" waited=0
  kill "-$signal" -- "-$group" 2>/dev/null || true
  while kill -0 -- "-$group" 2>/dev/null && [ "$waited" -lt $((grace_seconds * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL -- "-$group" 2>/dev/null || true
}

# The suite and, beside it from its start, the test command's soak (local/test.sh): 3 minutes of
# traffic with every fault on, then its drain and checks; its summary printed at the end. Its
# output is in .state/soak/loaded/.
run_suite_with_soak() {
  local soak_dir="$ROOT/.state/soak/loaded" soak_pid suite_status=0 soak_status=0
  rm -rf "$soak_dir"
  mkdir -p "$soak_dir"
  node bench/soak/run.ts --minutes 3 --rate 1 --drain-minutes 10 --out "$soak_dir" >"$soak_dir/output.log" 2>&1 &
  soak_pid="$!"
  npm run check || suite_status=$?
  wait "$soak_pid" || soak_status=$?
  if [ -f "$soak_dir/summary.txt" ]; then cat "$soak_dir/summary.txt"; else tail -n 20 "$soak_dir/output.log"; fi
  if [ "$soak_status" -ne 0 ]; then
    echo "test-loaded: the soak failed (exit $soak_status); its logs and summary are in $soak_dir" >&2
    [ "$suite_status" -ne 0 ] || suite_status=1
  fi
  return "$suite_status"
}

# Beside the suite: stops it if this script is gone without having stopped it (SIGKILL), and
# ends with the suite.
watch_suite() {
  local parent="$1" group="$2"
  trap - INT TERM HUP EXIT
  while kill -0 -- "-$group" 2>/dev/null; do
    if ! kill -0 "$parent" 2>/dev/null; then
      stop_group "$group" TERM
      return
    fi
    sleep 1
  done
}

# shellcheck disable=SC2329 # called by the traps
stop_suite() {
  local signal="$1"
  [ -n "$suite_pid" ] || return 0
  stop_group "$suite_pid" "$signal"
  wait "$suite_pid" 2>/dev/null || true
  kill "$watcher_pid" 2>/dev/null || true
  wait "$watcher_pid" 2>/dev/null || true
  suite_pid=''
}

# shellcheck disable=SC2329 # called by the traps
on_signal() {
  local name="$1" code="$2"
  # Ignored while stopping: npm forwards the terminal's Ctrl-C, so it comes twice.
  trap '' INT TERM HUP
  echo >&2
  echo "test-loaded: SIG$name: stopping the suite and the load" >&2
  stop_suite TERM
  stop_load
  exit "$code"
}

# All of it in one function, read whole before it runs: editing this file during a run (bash
# reads scripts as it goes) cannot change what the run does next.
main() {
  while [ $# -gt 0 ]; do
    case "$1" in
    --load | --repeat)
      [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || usage
      if [ "$1" = --load ]; then load=$((10#$2)); else repeat=$((10#$2)); fi
      shift 2
      ;;
    --load=* | --repeat=*)
      value="${1#*=}"
      [[ "$value" =~ ^[0-9]+$ ]] || usage
      if [[ "$1" == --load=* ]]; then load=$((10#$value)); else repeat=$((10#$value)); fi
      shift
      ;;
    --)
      shift
      vitest_args=("$@")
      break
      ;;
    -h | --help) usage ;;
    *) usage ;;
    esac
  done
  [ "$repeat" -ge 1 ] || usage

  bash "$here/setup.sh"
  # shellcheck source=local/toolchain.sh
  source "$here/toolchain.sh"
  ensure_node24
  cd "$ROOT"

  cpus="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"

  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP
  trap 'stop_suite KILL; stop_load' EXIT

  start_load
  if [ "$load" -gt 0 ]; then
    load_text="$load CPU-bound process$([ "$load" -eq 1 ] || echo es) at normal priority (pids ${load_pids[*]})"
  else
    load_text="no load"
  fi
  echo "test-loaded: $load_text on $cpus CPUs; load average $(loadavg)"

  status=0
  durations=()
  for ((round = 1; round <= repeat; round++)); do
    if [ "${#vitest_args[@]}" -eq 0 ]; then what="npm run check, and the soak"; else what="npm run check -- -- ${vitest_args[*]}"; fi
    echo "test-loaded: round $round/$repeat: $what"
    cpu_before="$(load_cpu_seconds)"
    started="$(date +%s)"
    set -m
    if [ "${#vitest_args[@]}" -eq 0 ]; then
      run_suite_with_soak </dev/null &
    else
      # check runs `npm run test` last: the second -- takes the arguments past npm to vitest.
      npm run check -- -- "${vitest_args[@]}" </dev/null &
    fi
    suite_pid="$!"
    set +m
    watch_suite "$$" "$suite_pid" &
    watcher_pid="$!"
    status=0
    wait "$suite_pid" || status=$?
    left="$(ps -A -o pgid=,pid=,stat=,args= | awk -v g="$suite_pid" '$1 == g && $3 !~ /^Z/')"
    if [ -n "$left" ]; then
      echo "test-loaded: the suite left processes behind, stopping them:" >&2
      echo "$left" >&2
    fi
    stop_suite TERM
    elapsed=$(($(date +%s) - started))
    cpu_used=$(($(load_cpu_seconds) - cpu_before))
    durations+=("$(duration "$elapsed")")
    if [ "$status" -eq 0 ]; then result=passed; else result="FAILED (exit $status)"; fi
    applied="no load"
    [ "$load" -eq 0 ] || applied="load used ${cpu_used} CPU-s in ${elapsed} s"
    echo "test-loaded: round $round/$repeat: $result in $(duration "$elapsed");" \
      "$applied; load average $(loadavg)"
    [ "$status" -eq 0 ] || break
  done

  stop_load
  echo "test-loaded: ${#durations[@]} of $repeat rounds run (${durations[*]}): $([ "$status" -eq 0 ] && echo passed || echo FAILED)"
  exit "$status"
}

main "$@"
