#!/usr/bin/env bash
# The sandbox demo: a fresh stack, two releases, a faulty one rolled back automatically and a
# manual rollback, with the status between steps and a summary at the end. Each step checks its
# own outcome (what is live, and the record the run wrote) and, on a surprise, stops there with
# what happened and what to run next.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
playbook="$here/.venv/bin/ansible-playbook"
python="$here/.venv/bin/python"
repo=registry.sandbox.local/switchyard/app
status_file="$here/.sandbox/status.json"
step_errors="$here/.sandbox/demo-step.err"  # the last step's stderr, shown when the demo stops
summary=()

run() { # run <title> <playbook> [args...]: the playbook's main lines; its exit code in $rc
  local title=$1
  shift
  printf '\n\033[1m=== %s\033[0m\n' "$title"
  started=$SECONDS
  "$playbook" "$@" -i inventories/sandbox 2>"$step_errors" |
    grep -E '^(TASK|fatal|    msg|    - |PLAY RECAP|localhost)' | grep -vE '^TASK .*(Validating arguments|Start the clock)'
  rc=${PIPESTATUS[0]}
}

status() { # the status playbook's messages, one per line; the same as JSON in $status_file
  rm -f "$status_file"
  ANSIBLE_STDOUT_CALLBACK=ansible.posix.json "$playbook" playbooks/status.yml -i inventories/sandbox \
    -e switchyard_status_file="$status_file" 2>/dev/null | "$python" -c '
import json, sys
for task in json.load(sys.stdin)["plays"][0]["tasks"]:
    if task["task"]["name"].startswith("Show"):
        result = task["hosts"]["localhost"]
        for item in result.get("results", [result]):
            msg = item.get("msg", "")
            for line in msg if isinstance(msg, list) else [msg]:
                print("  " + line)'
}

# expect <title> <exit: pass|fail> <live image tag> [<kind> <outcome> <record's image tag> [<last verdict>]]
# Compares the step with what the status file says, the newest record included (which must be
# this step's: its image); on a surprise, says what happened and stops.
expect() {
  local title=$1 exit_wanted=$2
  shift 2
  local exited=passed
  [ "$rc" -eq 0 ] || exited=failed
  local surprise
  surprise=$("$python" - "$status_file" "$exited" "$exit_wanted" "$@" <<'EOF'
import json, sys
path, exited, exit_wanted, live_tag, *record = sys.argv[1:]
try:
    status = json.load(open(path))
except (OSError, ValueError):
    print("the status playbook wrote no status: the sandbox may be down (make sandbox-up)")
    sys.exit()
problems = []
wanted = {"pass": "passed", "fail": "failed"}[exit_wanted]
if exited != wanted:
    problems.append(f"the playbook {exited}, where it should have {wanted}")
live = status.get("live_image") or ""
if not live.endswith(f":{live_tag}"):
    problems.append(f"production serves {live or 'nothing'}, not :{live_tag}")
last = (status.get("deployments") or [{}])[0]
if record:
    kind, outcome, image_tag, *verdict = record
    if not (last.get("image") or "").endswith(f":{image_tag}"):
        problems.append(f"the newest record is of {last.get('image')}, not of :{image_tag}: this step wrote none")
    elif (last.get("kind"), last.get("outcome")) != (kind, outcome):
        problems.append(f"the last record is a {last.get('kind')} that {last.get('outcome')}, "
                        f"not a {kind} that {outcome}")
    rates = last.get("error_rates") or [{}]
    if verdict and rates[-1].get("verdict") != verdict[0]:
        problems.append(f"its last bake was {rates[-1].get('verdict')}, not {verdict[0]}")
if problems:
    print("; ".join(problems) + ".")
    if last.get("failure"):
        print(f"What the run said: {last['failure']}")
EOF
  )
  summary+=("$(printf '%-52s %-7s %4ss  %s' "$title" "$exited" "$((SECONDS - started))" "$([ -n "$surprise" ] && echo UNEXPECTED || echo ok)")")
  [ -z "$surprise" ] && return 0
  printf '\n\033[1m=== Stopped: "%s" did not go as the demo expects\033[0m\n%s\n' "$title" "$surprise"
  grep -vE 'CryptographyDeprecationWarning|from cryptography' "$step_errors" | tail -n 5
  cat <<EOF

What to run next:
  ansible-playbook playbooks/status.yml -i inventories/sandbox   # what is live, and the records
  tail -n 20 .sandbox/harness.log .sandbox/emulator.log          # the sandbox's own side
  make sandbox-reset && make demo                                # start the story again
EOF
  printf '\n%s\n' "${summary[@]}"
  exit 1
}

sandbox/sandbox.sh reset
run "Provision the sandbox stack" playbooks/provision.yml
started_all=$SECONDS
rm -f "$status_file"
status >/dev/null
expect "Provision the sandbox stack" pass bootstrap

run "Promote v1" playbooks/promote.yml -e image=$repo:v1 -e switchyard_provision=false
status
expect "Promote v1" pass v1 promote succeeded v1

run "Promote v2 (canary: 10 %, then 100 %)" playbooks/promote.yml -e image=$repo:v2 \
  -e switchyard_provision=false -e switchyard_switch_mode=canary
status
expect "Promote v2 (canary: 10 %, then 100 %)" pass v2 promote succeeded v2

run "Promote v3, which answers 5 % 5xx (expect rollback)" playbooks/promote.yml \
  -e image=$repo:v3-5xx-5 -e switchyard_provision=false
status
expect "Promote v3, rolled back by the watch" fail v2 promote rolled_back v3-5xx-5 breached

run "Manual rollback to v1 (warm)" playbooks/rollback.yml
status
expect "Manual rollback to v1 (warm)" pass v1 rollback succeeded v1

printf '\n\033[1m=== Summary: every step went as expected (%ss after provisioning)\033[0m\n' "$((SECONDS - started_all))"
printf '%s\n' "${summary[@]}"
