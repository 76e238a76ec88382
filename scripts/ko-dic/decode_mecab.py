#!/usr/bin/env python3
"""Decode a compiled MeCab dictionary back into the CSV/def source lindera builds from.

mecab-ko-dic is published on PyPI only in compiled form (the `python-mecab-ko-dic` wheel),
while lindera's DictionaryBuilder reads MeCab *source* (lexicon CSV, matrix.def, char.def,
unk.def). MeCab 0.996's binary formats are simple and lossless for what lindera needs, so
this script inverts them (dictionary.cpp, connector.cpp, char_property.cpp, darts.h).

Usage: decode_mecab.py <wheel-or-dictionary-dir> <output-source-dir>

Only the standard library is used, so CI needs nothing beyond python3.
"""

import array
import os
import struct
import sys
import zipfile

DIC_MAGIC_XOR = 0xEF718F77
DICT_MEMBERS = ("sys.dic", "unk.dic", "matrix.bin", "char.bin")
# Copied verbatim: lindera ignores them, but they document the id spaces of the CSV.
PASSTHROUGH = ("left-id.def", "right-id.def", "pos-id.def", "rewrite.def", "feature.def", "dicrc")


def read_members(source):
    """Return {name: bytes} for the dictionary files, from a wheel or a directory."""
    wanted = DICT_MEMBERS + PASSTHROUGH
    files = {}
    if os.path.isdir(source):
        for name in wanted:
            path = os.path.join(source, name)
            if os.path.exists(path):
                with open(path, "rb") as fh:
                    files[name] = fh.read()
    else:
        with zipfile.ZipFile(source) as wheel:
            for info in wheel.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if "/dictionary/" in info.filename and base in wanted:
                    files[base] = wheel.read(info)
    missing = [m for m in DICT_MEMBERS if m not in files]
    if missing:
        raise SystemExit(f"decode_mecab: {source} lacks {', '.join(missing)}")
    return files


def csv_field(text):
    # The surface is the only column MeCab stores unquoted; re-quote it when needed.
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def decode_dic(data, name):
    """Yield (surface, left_id, right_id, cost, feature) for every token of sys.dic/unk.dic."""
    if len(data) < 72:
        raise SystemExit(f"decode_mecab: {name} is too short")
    magic, version, _type, lexsize, _lsize, _rsize, dsize, tsize, fsize, _dummy = struct.unpack_from(
        "<10I", data, 0
    )
    if magic ^ DIC_MAGIC_XOR != len(data):
        raise SystemExit(f"decode_mecab: {name} has a bad magic number (not a MeCab dictionary?)")
    if version != 102:
        raise SystemExit(f"decode_mecab: {name} has dictionary version {version}, expected 102")
    charset = data[40:72].split(b"\0", 1)[0].decode("ascii").lower()
    if charset not in ("utf-8", "utf8"):
        raise SystemExit(f"decode_mecab: {name} is in charset {charset}, expected UTF-8")

    darts_off = 72
    token_off = darts_off + dsize
    feature_off = token_off + tsize
    if feature_off + fsize > len(data) or tsize // 16 != lexsize:
        raise SystemExit(f"decode_mecab: {name} section sizes do not add up")

    units = array.array("i")
    units.frombytes(data[darts_off:token_off])
    if sys.byteorder != "little":
        units.byteswap()
    base = units[0::2]
    check = units[1::2]  # stored as u32 but every real value fits in i32
    size = len(base)

    # Darts stores, in each unit, the base of its parent in `check`; grouping units by it
    # turns the trie into an adjacency list so the walk touches each unit once instead of
    # probing 256 codes per node.
    children = {}
    for pos in range(1, size):
        parent = check[pos]
        if parent > 0 and 0 <= pos - parent <= 256:
            children.setdefault(parent, []).append(pos)

    features = data[feature_off : feature_off + fsize]
    tokens = data[token_off : token_off + tsize]
    seen = 0
    stack = [(base[0], b"")]
    while stack:
        node_base, key = stack.pop()
        for pos in children.get(node_base, ()):
            code = pos - node_base - 1
            if code == -1:
                value = base[pos]
                if value >= 0:
                    continue
                value = -value - 1
                surface = key.decode("utf-8")
                first, count = value >> 8, value & 0xFF
                for idx in range(first, first + count):
                    left, right, _pos_id, cost, foff, _compound = struct.unpack_from("<HHHhII", tokens, idx * 16)
                    end = features.index(b"\0", foff)
                    seen += 1
                    yield surface, left, right, cost, features[foff:end].decode("utf-8")
            else:
                stack.append((base[pos], key + bytes((code,))))
    if seen != lexsize:
        raise SystemExit(f"decode_mecab: {name}: walked {seen} tokens, header says {lexsize}")


def write_lexicon(path, entries):
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for surface, left, right, cost, feature in entries:
            out.write(f"{csv_field(surface)},{left},{right},{cost},{feature}\n")
            count += 1
    return count


def write_matrix(path, data):
    lsize, rsize = struct.unpack_from("<HH", data, 0)
    if 4 + 2 * lsize * rsize != len(data):
        raise SystemExit("decode_mecab: matrix.bin size does not match its header")
    costs = array.array("h")
    costs.frombytes(data[4:])
    if sys.byteorder != "little":
        costs.byteswap()
    with open(path, "w", encoding="ascii", newline="\n") as out:
        out.write(f"{lsize} {rsize}\n")
        for lid in range(lsize):
            # matrix.bin is indexed lid + lsize * rid
            out.write("".join(f"{lid} {rid} {costs[lid + lsize * rid]}\n" for rid in range(rsize)))


def write_char_def(path, data):
    (count,) = struct.unpack_from("<I", data, 0)
    names = [data[4 + 32 * i : 36 + 32 * i].split(b"\0", 1)[0].decode("ascii") for i in range(count)]
    offset = 4 + 32 * count
    entries = struct.unpack_from(f"<{0xFFFF}I", data, offset)

    # A code point carries the invoke/group/length of its default category, so each
    # category's parameters are read off any code point that has it as default.
    params = {}
    for value in entries:
        default = (value >> 18) & 0xFF
        params.setdefault(default, ((value >> 31) & 1, (value >> 30) & 1, (value >> 26) & 0xF))
    unknown = [names[i] for i in range(count) if i not in params]
    if unknown:
        raise SystemExit(f"decode_mecab: cannot recover parameters of categories {unknown}")

    def categories(value):
        default = (value >> 18) & 0xFF
        others = [i for i in range(count) if (value >> i) & 1 and i != default]
        return tuple([default] + others)

    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for i, name in enumerate(names):
            invoke, group, length = params[i]
            out.write(f"{name} {invoke} {group} {length}\n")
        out.write("\n")
        # Unlisted code points fall back to DEFAULT, so only other runs are written.
        default_only = (0,)
        start = 0
        current = categories(entries[0])
        for cp in range(1, 0xFFFF + 1):
            cats = categories(entries[cp]) if cp < 0xFFFF else None
            if cats != current:
                if current != default_only:
                    span = f"0x{start:04X}" if start == cp - 1 else f"0x{start:04X}..0x{cp - 1:04X}"
                    out.write(f"{span} {' '.join(names[c] for c in current)}\n")
                start, current = cp, cats


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    source, out_dir = argv[1], argv[2]
    files = read_members(source)
    os.makedirs(out_dir, exist_ok=True)

    words = write_lexicon(os.path.join(out_dir, "lexicon.csv"), decode_dic(files["sys.dic"], "sys.dic"))
    # unk.def has the lexicon's format, keyed by char.def category names.
    unk = write_lexicon(os.path.join(out_dir, "unk.def"), decode_dic(files["unk.dic"], "unk.dic"))
    write_matrix(os.path.join(out_dir, "matrix.def"), files["matrix.bin"])
    write_char_def(os.path.join(out_dir, "char.def"), files["char.bin"])
    for name in PASSTHROUGH:
        if name in files:
            with open(os.path.join(out_dir, name), "wb") as fh:
                fh.write(files[name])
    print(f"decode_mecab: {words} entries, {unk} unknown-word entries -> {out_dir}")


if __name__ == "__main__":
    main(sys.argv)
