#!/usr/bin/env bash
# Checks the deployment files without running them: the compose file with
# `docker-compose config` (Debian's docker-compose package; no Docker engine
# needed), the Prometheus configuration and alert rules with promtool
# (Debian's prometheus package) and their unit tests, the PromQL of the
# Grafana dashboard, and the systemd unit with `systemd-analyze verify` when
# it is there. The dashboard's SQL is tested by `go test ./cmd/ivr`.
#
#   bash deploy/check.sh
#
# Exits non-zero on the first file that does not validate.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deploy/check: installing docker-compose (Debian package)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  else
    echo "deploy/check: docker-compose not found: apt-get install docker-compose" >&2
    exit 1
  fi
fi
docker-compose -f docker-compose.yml config -q
echo "deploy/check: docker-compose.yml is valid"

# Every file the compose file mounts must exist.
for f in deploy/asterisk/extensions.conf deploy/asterisk/pjsip.conf deploy/asterisk/rtp.conf deploy/compose/demo-pin.key menus.yaml surveys.yaml \
  deploy/prometheus/prometheus.yml deploy/prometheus/alerts.yml deploy/grafana/dashboards/ivr.json \
  deploy/grafana/provisioning/datasources/ivr.yml deploy/grafana/provisioning/dashboards/ivr.yml; do
  [ -f "$f" ] || { echo "deploy/check: $f is missing" >&2; exit 1; }
done

# Every sample prompt of prompts.txt must be there as the WAV Asterisk plays:
# 8 kHz, mono, 16-bit PCM (RIFF header fields read with od, no sox needed).
while IFS= read -r line; do
  case "$line" in ''|';'*) continue ;; esac
  f="deploy/asterisk/sounds/en/${line%%:*}.wav"
  [ -f "$f" ] || { echo "deploy/check: $f is missing: run make prompts" >&2; exit 1; }
  hdr=$(od -An -v -tu2 -j20 -N4 "$f" | tr -s ' ')
  rate=$(od -An -v -tu4 -j24 -N4 "$f" | tr -d ' ')
  bits=$(od -An -v -tu2 -j34 -N2 "$f" | tr -d ' ')
  [ "$(head -c4 "$f")" = RIFF ] && [ "$hdr" = " 1 1" ] && [ "$rate" = 8000 ] && [ "$bits" = 16 ] ||
    { echo "deploy/check: $f is not 8 kHz mono 16-bit PCM WAV: run make prompts" >&2; exit 1; }
done < deploy/asterisk/sounds/prompts.txt
echo "deploy/check: the sample prompts are 8 kHz mono 16-bit WAV"

# The Prometheus configuration, the alert rules and their unit tests.
if ! command -v promtool >/dev/null 2>&1; then
  echo "deploy/check: promtool not found: apt-get install prometheus" >&2
  exit 1
fi
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml
echo "deploy/check: the Prometheus configuration and alert rules are valid and pass their tests"

# The dashboard's PromQL parses: each expression, its Grafana variables given
# a value ($__rate_interval 5m, $instance .*), checked as a recording rule.
{
  printf 'groups:\n  - name: dashboard\n    rules:\n'
  grep -o '"expr": "\([^"\\]\|\\.\)*"' deploy/grafana/dashboards/ivr.json |
    sed -e 's/^"expr": "//' -e 's/"$//' -e 's/\\"/"/g' -e 's/\$__rate_interval/5m/g' -e 's/\$instance/.*/g' -e "s/'/''/g" |
    awk '{ printf "      - record: dashboard:expr:%d\n        expr: '"'"'%s'"'"'\n", NR, $0 }'
} >"$tmp/dashboard-rules.yml"
if grep -q 'expr: .*\$' "$tmp/dashboard-rules.yml"; then
  echo "deploy/check: the dashboard uses a variable this check does not know:" >&2
  grep 'expr: .*\$' "$tmp/dashboard-rules.yml" >&2
  exit 1
fi
exprs=$(grep -c 'record:' "$tmp/dashboard-rules.yml" || true)
[ "$exprs" -gt 0 ] || { echo "deploy/check: no PromQL found in the dashboard" >&2; exit 1; }
promtool check rules "$tmp/dashboard-rules.yml" >/dev/null ||
  { promtool check rules "$tmp/dashboard-rules.yml" >&2; exit 1; }
echo "deploy/check: the $exprs PromQL expressions of the dashboard parse"

if command -v systemd-analyze >/dev/null 2>&1; then
  # verify wants the ExecStart binary to exist; check a copy that runs /bin/true.
  sed 's#^ExecStart=/usr/local/bin/ivr#ExecStart=/bin/true#' deploy/systemd/ivr.service >"$tmp/ivr.service"
  out=$(systemd-analyze verify "$tmp/ivr.service" 2>&1) || { echo "$out" >&2; exit 1; }
  if [ -n "$out" ]; then echo "$out" >&2; exit 1; fi
  echo "deploy/check: deploy/systemd/ivr.service is valid"
else
  echo "deploy/check: systemd-analyze not found, unit not checked"
fi
