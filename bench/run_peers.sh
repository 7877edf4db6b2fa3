#!/bin/sh
# Compare pkanren with faster-miniKanren on Chez Scheme; see bench/README.md.
# All options are passed to run_peers.py (--quick, --only NAME, --timeout S,
# --json FILE, --runs N, --all, --gated, --pk BIN, --list).
exec python3 "$(dirname "$0")/run_peers.py" "$@"
