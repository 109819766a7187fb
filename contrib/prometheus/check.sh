#!/usr/bin/env bash
# Checks saidno's alerting rules and runs their unit tests with promtool, installing Debian's
# prometheus package for it when promtool is missing. Prints `# pass N` and `# fail N` lines, which
# the summary at the end of .ci/run adds up, and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")"

# Installs the package without letting it start the Prometheus server it ships: only promtool is
# wanted, and a server left running would hold port 9090 on the machine.
install_promtool() {
  export DEBIAN_FRONTEND=noninteractive
  local guard=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$guard" ]; then
    # 101: "action forbidden", which invoke-rc.d and deb-systemd-invoke both obey.
    printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod +x "$guard" && placed=yes
  fi
  apt-get install -y --no-install-recommends prometheus ||
    { apt-get update && apt-get install -y --no-install-recommends prometheus; }
  local installed=$?
  [ -n "$placed" ] && rm -f "$guard"
  # Should a server have started all the same, stop it; and keep it from starting at the next boot.
  if command -v systemctl >/dev/null; then
    if systemctl is-active --quiet prometheus 2>/dev/null; then systemctl stop prometheus; fi
    systemctl disable --quiet prometheus 2>/dev/null || true
  fi
  if [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    /etc/init.d/prometheus stop
  fi
  return $installed
}

if ! command -v promtool >/dev/null; then
  install_promtool >&2 || { echo "promtool could not be installed"; echo "# fail 1"; exit 1; }
fi

passed=0
failed=0

if promtool check rules saidno-alerts.yml; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

# One result for each test group in the file. promtool names each group that failed; when it
# fails without naming any (a file it cannot read), every group counts as failed.
groups=$(grep -c '^  - name:' saidno-alerts.test.yml 2>/dev/null || true)
[ "${groups:-0}" -gt 0 ] || groups=1
if report=$(promtool test rules saidno-alerts.test.yml 2>&1); then
  passed=$((passed + groups))
else
  named=$(grep -E '^    name: ' <<<"$report" | sort -u | wc -l)
  [ "$named" -gt 0 ] || named=$groups
  failed=$((failed + named))
  passed=$((passed + groups - named))
fi
echo "$report"

# The dashboard's queries, as recording rules, so that promtool parses each one: Grafana's own
# variables become what they stand for at a typical zoom.
queries=$(mktemp --suffix=.yml)
trap 'rm -f "$queries"' EXIT
if python3 - ../grafana/saidno-dashboard.json >"$queries" <<'PY' && promtool check rules "$queries"; then
import json, sys
dashboard = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        expr = target["expr"].replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$instance", ".*")
        print("      - record: dashboard:panel_%d_%s" % (panel["id"], target["refId"].lower()))
        print("        expr: %s" % json.dumps(expr))
PY
  passed=$((passed + 1))
else
  echo "the dashboard's queries do not all parse"
  failed=$((failed + 1))
fi

echo "# pass $passed"
echo "# fail $failed"
[ "$failed" -eq 0 ]
