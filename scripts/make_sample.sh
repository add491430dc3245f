#!/usr/bin/env bash
# Regenerate src/soniox/data/sample-en.wav: a short English sentence spoken by espeak-ng,
# as 16 kHz mono 16-bit PCM WAV. The WAV is committed; tests never run this script.
# Needs espeak-ng and sox (Debian/Ubuntu: apt-get install -y espeak-ng sox).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../src/soniox/data/sample-en.wav}"
text="Hello from the emulator. This sentence was spoken by a robot."

for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y espeak-ng sox)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A fixed voice and rate (en-us+f2 at 160 wpm: the one pocketsphinx's en-us model hears best).
espeak-ng -v en-us+f2 -s 160 -w "$tmp/raw.wav" "$text"
# 16 kHz mono s16 with a little silence around the speech; dither off (-D) so repeated runs
# produce identical bytes; the second pass writes a plain RIFF header without a LIST chunk.
sox "$tmp/raw.wav" -D -r 16000 -c 1 -b 16 -e signed-integer "$tmp/sample.wav" pad 0.3 0.5
sox "$tmp/sample.wav" -t wav "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
