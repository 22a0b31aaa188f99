#!/bin/sh
# Builds webui/static/editor.js, the admin UI's policy editor, from the
# versions pinned in package-lock.json. The built file is committed, so
# running stepgate needs no Node; run this after changing src/ or the
# dependencies, and commit both. Needs Node 18 or newer and the npm registry
# (for npm ci).
set -eu
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/esbuild ]; then npm ci --no-audit --no-fund; fi
OUT=${OUT:-../static/editor.js}
node_modules/.bin/esbuild src/editor.js --bundle --minify --format=iife --target=es2020 \
	--alias:codemirror=./src/cm5.js --legal-comments=none --charset=utf8 \
	--banner:js="/* stepgate policy editor, built by webui/editor/build.sh: CodeMirror 6 (MIT, codemirror.net), codemirror-rego (Apache-2.0, Styra). */" \
	--log-level=warning --outfile="$OUT"
