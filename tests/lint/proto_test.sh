#!/bin/sh
# The API's protos (protos/) as other languages' tools see them:
#
#   proto_test.sh buf <source dir>
#     `buf lint` runs clean: buf.yaml at the root (STANDARD, with the
#     exceptions it gives reasons for). buf is npm's @bufbuild/buf, pinned
#     by tests/web/package-lock.json (./dev test installs it with
#     `npm ci --prefix tests/web`).
#   proto_test.sh java <source dir> <protoc>
#     protoc --java_out of every file under protos/ runs clean (no error,
#     no warning), and each slussen/v1 file's outer class is
#     se/slussen/v1/<File>Proto.java: java_package and java_outer_classname
#     as the files set them.
#   proto_test.sh go <source dir> <protoc>
#     protoc --go_out with Debian's protoc-gen-go runs clean over the API
#     and the health protocol: every file has a go_package, the API's files
#     agree on one Go package, and they all land in that one directory.
#
# Each generates into a temporary directory and removes it.
set -u

check="${1:?usage: proto_test.sh buf|java|go <source dir> [protoc]}"
src="${2:?usage: proto_test.sh buf|java|go <source dir> [protoc]}"

die() {
  echo "FAIL: $*" >&2
  exit 1
}

out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT

# The API's files, relative to protos/, sorted.
api_files() {
  (cd "$src/protos" && find slussen/v1 -name '*.proto' -type f | sort)
}

# run_protoc WHAT ARGS...: protoc from protos/, failing on an error and on
# anything it prints (a warning such as an unused import).
run_protoc() {
  what=$1
  shift
  (cd "$src/protos" && "$protoc" -I . "$@") >"$out/protoc.log" 2>&1 ||
    die "protoc $what failed: $(cat "$out/protoc.log")"
  [ ! -s "$out/protoc.log" ] ||
    die "protoc $what printed warnings: $(cat "$out/protoc.log")"
}

buf_lint() {
  buf="$src/tests/web/node_modules/.bin/buf"
  [ -x "$buf" ] ||
    die "no $buf: install the tests' npm packages (npm ci --prefix tests/web; ./dev test does)"
  # A cache of its own: buf writes one, and the home may not be writable.
  (cd "$src" && BUF_CACHE_DIR="$out/cache" "$buf" lint) ||
    die "buf lint found the problems above (buf.yaml says which rules apply)"
  echo "ok: buf lint ($("$buf" --version)) finds nothing in protos/"
}

java_check() {
  mkdir "$out/java"
  # shellcheck disable=SC2046  # the file names have no spaces
  run_protoc --java_out --java_out="$out/java" \
    $(cd "$src/protos" && find . -name '*.proto' -type f | sort)
  count=0
  for file in $(api_files); do
    class=$(basename "$file" .proto | sed -E 's/(^|_)([a-z])/\U\2/g')Proto
    [ -f "$out/java/se/slussen/v1/$class.java" ] ||
      die "$file: no se/slussen/v1/$class.java; give it option java_package = \"se.slussen.v1\" and java_outer_classname = \"$class\""
    count=$((count + 1))
  done
  echo "ok: protoc --java_out ($("$protoc" --version)) of protos/, $count API files in se.slussen.v1"
}

go_check() {
  command -v protoc-gen-go >/dev/null ||
    die "protoc-gen-go not found: install Debian's protoc-gen-go (./dev does)"
  mkdir "$out/go"
  # shellcheck disable=SC2046  # the file names have no spaces
  run_protoc --go_out --go_out="$out/go" $(api_files) \
    grpc/health/v1/health.proto
  dirs=$(cd "$out/go" && find . -name '*.pb.go' ! -path './google.golang.org/*' \
    -exec dirname {} \; | sort -u)
  [ "$(echo "$dirs" | wc -l)" -eq 1 ] ||
    die "the API's files name more than one go_package: $(echo "$dirs" | tr '\n' ' ')"
  count=$(find "$out/go/$dirs" -name '*.pb.go' | wc -l)
  [ "$count" -eq "$(api_files | wc -l)" ] ||
    die "$count Go files in ${dirs#./} for $(api_files | wc -l) API files"
  echo "ok: protoc --go_out ($(protoc-gen-go --version)): $count API files in ${dirs#./}"
}

case "$check" in
  buf) buf_lint ;;
  java | go)
    protoc="${3:?usage: proto_test.sh $check <source dir> <protoc>}"
    "${check}_check"
    ;;
  *) die "unknown check '$check': buf, java or go" ;;
esac
