#!/usr/bin/env bash
# Checks the deployment files without running them: the compose file with
# `docker-compose config` (Debian's docker-compose package; no Docker engine
# needed), the Prometheus configuration and alert rules with promtool
# (Debian's prometheus package) and their unit tests, and the systemd unit
# with `systemd-analyze verify` when it is there.
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
for f in deploy/asterisk/extensions.conf deploy/asterisk/pjsip.conf deploy/asterisk/rtp.conf deploy/compose/demo-pin.key menus.yaml surveys.yaml; do
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

if command -v systemd-analyze >/dev/null 2>&1; then
  # verify wants the ExecStart binary to exist; check a copy that runs /bin/true.
  sed 's#^ExecStart=/usr/local/bin/ivr#ExecStart=/bin/true#' deploy/systemd/ivr.service >"$tmp/ivr.service"
  out=$(systemd-analyze verify "$tmp/ivr.service" 2>&1) || { echo "$out" >&2; exit 1; }
  if [ -n "$out" ]; then echo "$out" >&2; exit 1; fi
  echo "deploy/check: deploy/systemd/ivr.service is valid"
else
  echo "deploy/check: systemd-analyze not found, unit not checked"
fi
