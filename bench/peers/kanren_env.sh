#!/usr/bin/env bash
# bench/peers/kanren_env.sh — set up Python kanren (pythological/kanren at
# b1ff6cf, the reference of SPEC §5) from local clones, without pip.
#
#   bash bench/peers/kanren_env.sh KANREN UNIFICATION ETUPLES CONS [PEERS]
#   eval "$(bash bench/peers/kanren_env.sh ... | tail -1)"
#
# KANREN .. CONS are git clones (or mirrors) of pythological/kanren,
# unification, etuples and python-cons.  Each is exported (git archive) into
# PEERS (default /work/peers): kanren at b1ff6cf, the others at HEAD; then
# Debian's python3-toolz and python3-multipledispatch are installed and
# PEERS/meta gets dist-info stubs so importlib.metadata finds the packages
# (kanren asks for its distribution name, miniKanren).
# The last line printed is the PYTHONPATH to run /usr/bin/python3 with;
# tests/kanren/gen.py reads it from the environment.  Nothing fetched is
# ever committed to this repository.
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,15p "$0" >&2; exit 2; }
kanren=$1 unif=$2 etup=$3 cons=$4
peers=${5:-/work/peers}
path="$peers/kanren:$peers/unification:$peers/etuples:$peers/python-cons:$peers/meta"

# gitdir DIR: the git directory of a clone or a bare mirror.
gitdir() { if [ -d "$1/.git" ]; then echo "$1/.git"; else echo "$1"; fi; }

export_tree() {  # SRC COMMIT NAME
  rm -rf "${peers:?}/$3"; mkdir -p "$peers/$3"
  git --git-dir="$(gitdir "$1")" archive "$2" | tar -x -C "$peers/$3"
}
mkdir -p "$peers"
export_tree "$kanren" b1ff6cf kanren
export_tree "$unif" HEAD unification
export_tree "$etup" HEAD etuples
export_tree "$cons" HEAD python-cons

if ! /usr/bin/python3 -c 'import toolz, multipledispatch' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-toolz python3-multipledispatch >/dev/null
fi
for n in cons etuples unification kanren miniKanren; do  # kanren's own name is miniKanren
  mkdir -p "$peers/meta/$n-0.0.0.dist-info"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: 0.0.0\n' "$n" \
    >"$peers/meta/$n-0.0.0.dist-info/METADATA"
done
PYTHONPATH=$path /usr/bin/python3 -c 'import kanren, kanren.graph, kanren.assoccomm' >&2
echo "export PYTHONPATH=$path"
