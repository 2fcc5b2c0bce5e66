#!/usr/bin/env bash
# Regenerates the TypeScript for schemas/*.fbs. The output is committed so that `npm ci` needs no compiler;
# test/schema-generated.test.ts fails when this output and the committed copy differ.
# Usage: scripts/gen-schemas.sh [OUT_DIR]   (default: schemas/generated)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-schemas/generated}"
command -v flatc >/dev/null || { echo "flatc not found: apt-get install flatbuffers-compiler" >&2; exit 3; }
mkdir -p "$out"
# --ts-flat-files: one self-contained module per schema whose only import is 'flatbuffers', so it loads
# under plain Node ESM (the per-type files flatc writes otherwise import each other without extensions).
flatc --ts --ts-flat-files -o "$out" schemas/oms.fbs
flatc --ts --ts-flat-files -I schemas -o "$out" schemas/session.fbs
flatc --ts --ts-flat-files -I schemas -o "$out" schemas/stamped.fbs
# session.fbs includes oms.fbs, and flatc imports it without an extension; Node ESM needs '.js'.
sed -i "s#from './oms_generated';#from './oms_generated.js';#" "$out/session_generated.ts"
