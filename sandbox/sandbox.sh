#!/usr/bin/env bash
# The sandbox: an AWS API emulator (moto in server mode) on loopback.
#   sandbox.sh up        start it unless it already answers; print its endpoint
#   sandbox.sh down      stop the emulator this script started (no-op otherwise)
#   sandbox.sh reset     empty the emulator and the sandbox's local Terraform state
#   sandbox.sh endpoint  print the endpoint only
# The endpoint is $AWS_ENDPOINT_URL when set (any emulator, any port), else
# http://127.0.0.1:$SANDBOX_PORT (4566 by default).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state_dir="$here/.sandbox"
pid_file="$state_dir/emulator.pid"
harness_pid_file="$state_dir/harness.pid"
python=${PYTHON:-$here/.venv/bin/python}
endpoint=${AWS_ENDPOINT_URL:-http://127.0.0.1:${SANDBOX_PORT:-4566}}

answers() { curl -fsS -m 5 -o /dev/null "$endpoint/moto-api/" 2>/dev/null; }

make_transitions_immediate() {
  # ECS tasks otherwise wait for a manual advance; make them start at once.
  curl -fsS -m 5 -o /dev/null -X POST "$endpoint/moto-api/state-manager/set-transition" \
    -H 'Content-Type: application/json' \
    -d '{"model_name": "ecs::task", "transition": {"progression": "immediate"}}'
}

# SANDBOX ONLY: registers task addresses and publishes ALB metrics (sandbox/sandbox_harness.py).
start_harness() {
  if [ -f "$harness_pid_file" ] && kill -0 "$(cat "$harness_pid_file")" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$state_dir"
  # Fast delivery for the demo; scripts/benchmark.py switches to AWS-like delivery through the file.
  setsid "$python" "$here/sandbox/sandbox_harness.py" --endpoint "$endpoint" --fast --settings "$state_dir/harness.json" \
    --data-plane-port "${SANDBOX_DATA_PLANE_PORT:-4567}" \
    >"$state_dir/harness.log" 2>&1 </dev/null &
  echo $! >"$harness_pid_file"
}

up() {
  if answers; then
    case "$endpoint" in http://127.0.0.1:* | http://localhost:*) start_harness ;; esac
    echo "$endpoint"
    return 0
  fi
  local hostport=${endpoint#*://}
  hostport=${hostport%%/*}
  local host=${hostport%:*} port=${hostport##*:}
  case "$host" in
    127.0.0.1 | localhost) ;;
    *)
      echo "sandbox: nothing answers at $endpoint and it is not on this machine; start that emulator or unset AWS_ENDPOINT_URL" >&2
      return 1
      ;;
  esac
  mkdir -p "$state_dir"
  # setsid: the emulator outlives the make process that started it.
  # AWS managed policies (AmazonECSTaskExecutionRolePolicy, ...) exist in every real account.
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_RECORDER_FILEPATH="$state_dir/recording.jsonl" \
    setsid "$python" "$here/sandbox/sandbox_emulator.py" -H "$host" -p "$port" >"$state_dir/emulator.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  for _ in $(seq 1 100); do
    if answers; then
      make_transitions_immediate
      start_harness
      echo "$endpoint"
      return 0
    fi
    sleep 0.1
  done
  echo "sandbox: the emulator did not answer at $endpoint within 10 s; see $state_dir/emulator.log" >&2
  return 1
}

# The default workspace's state only: the test suite's workspaces (terraform.tfstate.d/) belong
# to emulators of their own, which may be running now.
forget_state() {
  rm -f "$here"/infrastructure/environments/sandbox/terraform.tfstate{,.backup}
}

down() {
  if [ -f "$harness_pid_file" ]; then
    kill "$(cat "$harness_pid_file")" 2>/dev/null || true
    rm -f "$harness_pid_file"
  fi
  if [ -f "$pid_file" ]; then
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
    # The emulator kept everything in memory: the sandbox's local state now describes nothing.
    forget_state
    echo "sandbox: stopped the emulator at $endpoint"
  else
    echo "sandbox: no emulator started from here"
  fi
}

reset() {
  curl -fsS -m 30 -o /dev/null -X POST "$endpoint/moto-api/reset"
  make_transitions_immediate
  forget_state
  echo "sandbox: emptied $endpoint"
}

case "${1:-}" in
  up) up ;;
  reset) reset ;;
  down) down ;;
  endpoint) echo "$endpoint" ;;
  *)
    echo "usage: $0 up|down|reset|endpoint" >&2
    exit 2
    ;;
esac
