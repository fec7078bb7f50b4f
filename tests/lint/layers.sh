#!/usr/bin/env bash
# The broker's layers, as its includes show them: each folder includes only
# the folders below it (see broker/core/CMakeLists.txt and docs/start-here.md).
#
#   broker/core/model   the domain's values and rules
#   broker/core/ports   the interfaces the desks need: repositories, clock
#   broker/core/desks   the use cases
#   broker/store        Redis: implements the ports
#   broker/service      gRPC: the services over the desks and the store
#   broker/server       main()
#
# Prints every include against the direction and fails if there is one.
# Usage: layers.sh SOURCE_DIR
set -euo pipefail
cd "${1:?usage: layers.sh SOURCE_DIR}"

# folder, then the pattern of includes it must not have.
rules=(
  "broker/core/model|\"broker/(core/(ports|desks)|store|service|server)/|<(grpcpp|hiredis)/"
  "broker/core/ports|\"broker/(core/desks|store|service|server)/|<(grpcpp|hiredis)/"
  "broker/core/desks|\"broker/(store|service|server)/|<(grpcpp|hiredis)/"
  "broker/store|\"broker/(service|server)/|<grpcpp/"
  "broker/service|\"broker/server/"
)

found=0
for rule in "${rules[@]}"; do
  folder=${rule%%|*}
  forbidden=${rule#*|}
  [ -d "$folder" ] || { echo "layers: no folder $folder" >&2; exit 1; }
  while IFS= read -r hit; do
    echo "layers: $hit (a $folder file includes against the layers)"
    found=1
  done < <(grep -rnE "^#include ($forbidden)" "$folder" \
             --include='*.h' --include='*.cc' || true)
done

# Nothing is left in broker/core itself: every unit is in one of the layers.
stray=$(find broker/core -maxdepth 1 -type f \( -name '*.h' -o -name '*.cc' \))
if [ -n "$stray" ]; then
  echo "layers: files outside model/, ports/, desks/: $stray"
  found=1
fi
exit "$found"
