#!/usr/bin/env bash
# Makes the sample prompts from their words in prompts.txt: one WAV file per
# line, en/<name>.wav, 8 kHz mono 16-bit (what Asterisk's format_wav plays as
# slin without transcoding), spoken by espeak-ng and resampled by sox.
#
#   bash deploy/asterisk/sounds/make-prompts.sh     (or: make prompts)
#
# Needs espeak-ng and sox (Debian, Ubuntu: apt-get install espeak-ng sox).
# The same text and tools give the same files, so an unchanged text leaves
# its file unchanged.
set -euo pipefail
cd "$(dirname "$0")"

for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null 2>&1 || { echo "make-prompts: $tool not found: apt-get install espeak-ng sox" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
while IFS= read -r line; do
  case "$line" in ''|';'*) continue ;; esac
  name=${line%%:*}
  text=${line#*:}
  text=${text# }
  case "$name" in
    ''|/*|*..*|*' '*) echo "make-prompts: bad sound name '$name'" >&2; exit 1 ;;
  esac
  out="en/$name.wav"
  mkdir -p "$(dirname "$out")"
  espeak-ng -v en-us -s 150 -w "$tmp/voice.wav" "$text"
  # -D: no dither, so the output depends on the text alone. silence: trim the
  # leading and trailing quiet; pad: a short breath before the next prompt.
  sox -D "$tmp/voice.wav" -r 8000 -c 1 -b 16 -e signed-integer "$tmp/out.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3 pad 0 0.3
  mv "$tmp/out.wav" "$out"
  n=$((n + 1))
  echo "make-prompts: $out ($(soxi -D "$out" | cut -c1-4) s)"
done < prompts.txt
echo "make-prompts: $n prompts"
