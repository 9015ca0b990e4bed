#!/usr/bin/env bash
# Refreshes the files GraphiQL's page is built from (assets/graphiql/vendor/), with `npm pack`
# from the npm registry (npm checks each tarball against the registry's integrity hash):
# graphiql's UMD bundle and style sheet, React's and ReactDOM's UMD production builds, each
# package's LICENSE beside them. The files are copied byte for byte; vendor/SHA256SUMS lists
# their sums (a unit test in src/http/graphiql.rs checks the embedded files against it).
#
#   ./scripts/vendor-graphiql.sh                      # the versions below
#   GRAPHIQL_VERSION=3.9.0 REACT_VERSION=18.3.1 ./scripts/vendor-graphiql.sh
#
# Then copy the printed table into assets/graphiql/README.md and run the tests
# (`cargo test --test api graphiql`, and tests/browser, see the README).
#
# graphiql 3's UMD bundle reads the globals `React` and `ReactDOM` (React 16.8 to 18);
# React 19 ships no UMD build, and graphiql 4's bundle is the last one, so stay on 3.x / 18.x
# until the page moves to ES modules.
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHIQL_VERSION=${GRAPHIQL_VERSION:-3.9.0}
REACT_VERSION=${REACT_VERSION:-18.3.1}
DEST=assets/graphiql/vendor
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" \
  "react-dom@$REACT_VERSION" >/dev/null)

# take PACKAGE VERSION FILE…: copies package/FILE (and package/LICENSE) to $DEST/PACKAGE/.
take() {
  local name=$1 version=$2
  shift 2
  mkdir -p "$WORK/$name"
  tar -xzf "$WORK/$name-$version.tgz" -C "$WORK/$name"
  rm -rf "${DEST:?}/$name"
  mkdir -p "$DEST/$name"
  for file in LICENSE "$@"; do
    cp "$WORK/$name/package/$file" "$DEST/$name/$(basename "$file")"
  done
}
take graphiql "$GRAPHIQL_VERSION" graphiql.min.js graphiql.min.css
take react "$REACT_VERSION" umd/react.production.min.js
take react-dom "$REACT_VERSION" umd/react-dom.production.min.js

(cd "$DEST" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort |
  xargs sha256sum >SHA256SUMS)

echo "| package | version | file | sha256 |"
echo "|---|---|---|---|"
while read -r sum file; do
  case $file in
    graphiql/*) version=$GRAPHIQL_VERSION ;;
    *) version=$REACT_VERSION ;;
  esac
  echo "| ${file%%/*} | $version | \`${file#*/}\` | \`$sum\` |"
done <"$DEST/SHA256SUMS"
