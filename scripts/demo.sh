#!/usr/bin/env bash
# The sandbox demo: a fresh stack, two releases, a faulty one rolled back automatically and a
# manual rollback, with the status between steps and a summary at the end.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
playbook="$here/.venv/bin/ansible-playbook"
repo=registry.sandbox.local/switchyard/app
summary=()

run() { # run <title> <expect: pass|fail> <playbook> [args...]
  local title=$1 expect=$2
  shift 2
  printf '\n\033[1m=== %s\033[0m\n' "$title"
  local started=$SECONDS
  "$playbook" "$@" -i inventories/sandbox | grep -E '^(TASK|fatal|    msg|    - |PLAY RECAP|localhost)' | grep -vE '^TASK .*(Validating arguments|Start the clock)'
  local rc=${PIPESTATUS[0]} outcome
  if [ "$rc" -eq 0 ]; then outcome=passed; else outcome=failed; fi
  local verdict=ok
  if { [ "$expect" = pass ] && [ "$rc" -ne 0 ]; } || { [ "$expect" = fail ] && [ "$rc" -eq 0 ]; }; then
    verdict=UNEXPECTED
  fi
  summary+=("$(printf '%-48s %-7s %4ss  %s' "$title" "$outcome" "$((SECONDS - started))" "$verdict")")
}

status() { # the status playbook's messages, one per line
  ANSIBLE_STDOUT_CALLBACK=ansible.posix.json "$playbook" playbooks/status.yml -i inventories/sandbox \
    | "$here/.venv/bin/python" -c '
import json, sys
for task in json.load(sys.stdin)["plays"][0]["tasks"]:
    if task["task"]["name"].startswith("Show"):
        result = task["hosts"]["localhost"]
        for item in result.get("results", [result]):
            msg = item.get("msg", "")
            for line in msg if isinstance(msg, list) else [msg]:
                print("  " + line)'
}

scripts/sandbox.sh reset
run "Provision the sandbox stack" pass playbooks/provision.yml
run "Promote v1" pass playbooks/promote.yml -e image=$repo:v1 -e switchyard_provision=false
status
run "Promote v2 (canary: 10 %, then 100 %)" pass playbooks/promote.yml -e image=$repo:v2 \
  -e switchyard_provision=false -e switchyard_switch_mode=canary
status
run "Promote v3, which answers 5 % 5xx (expect rollback)" fail playbooks/promote.yml \
  -e image=$repo:v3-5xx-5 -e switchyard_provision=false
status
run "Manual rollback to v1 (warm)" pass playbooks/rollback.yml
status

printf '\n\033[1m=== Summary\033[0m\n'
printf '%s\n' "${summary[@]}"
! printf '%s\n' "${summary[@]}" | grep -q UNEXPECTED
