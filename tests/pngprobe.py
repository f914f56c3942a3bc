#!/usr/bin/env python3
"""pngprobe.py: read a PNG (8-bit RGB/RGBA, not interlaced; what cairo writes)
with only the standard library and answer questions about it, for the
picture tests in tests/cli/96_pictures.sh.

  pngprobe.py size FILE                 -> "W H"
  pngprobe.py count FILE HEX...         -> pixels of each exact colour
  pngprobe.py ink FILE                  -> share of non-white pixels
  pngprobe.py pixel FILE X Y [X Y...]  -> colour hex at each (X, Y)
  pngprobe.py frame FILE                -> "L T R B" of the largest black
                                           rectangle outline (plot frame)
  pngprobe.py hlines FILE               -> rows of the long dark horizontal
                                           lines (panel tops and bottoms),
                                           one per run of adjacent rows
  pngprobe.py top FILE HEX L R [T B]    -> "X Y" of the topmost pixel of the
                                           colour in columns L..R (rows T..B)
  pngprobe.py bbox FILE XMAX HEX...     -> "L T R B" of pixels of these
                                           colours left of column XMAX
"""
import marshal
import os
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit("unsupported PNG (depth %d type %d)" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(line.hex().upper())
        prev = line
    if bpp == 4:  # drop alpha
        rows = [r[:0] + "".join(r[i:i + 6] for i in range(0, len(r), 8)) for r in rows]
    rows = [[r[i:i + 6] for i in range(0, len(r), 6)] for r in rows]
    return w, h, rows


def load(path):
    """Decode once per picture; later questions read a marshal cache."""
    cache = path + ".probe"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        with open(cache, "rb") as f:
            return marshal.load(f)
    w, h, rows = read_png(path)
    with open(cache, "wb") as f:
        marshal.dump((w, h, rows), f)
    return w, h, rows


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    w, h, px = load(path)
    args = sys.argv[3:]
    if cmd == "size":
        print(w, h)
    elif cmd == "count":
        for c in args:
            print(c.upper(), sum(r.count(c.upper()) for r in px))
    elif cmd == "ink":
        print("%.4f" % (sum(sum(1 for p in r if p != "FFFFFF") for r in px) / (w * h)))
    elif cmd == "pixel":  # any number of X Y pairs
        print(" ".join(px[int(args[i + 1])][int(args[i])] for i in range(0, len(args), 2)))
    elif cmd == "frame":
        # columns/rows that are black over long runs: the panel outlines
        # (anti-aliased lines: "dark" = a grey darker than 0xA0)
        def dark_grey(p):
            c = (int(p[0:2], 16), int(p[2:4], 16), int(p[4:6], 16))
            return max(c) < 0xA0 and max(c) - min(c) < 0x20
        dark = [[dark_grey(p) for p in r] for r in px]
        cols = [x for x in range(w) if sum(dark[y][x] for y in range(h)) > h * 0.2]
        rows = [y for y in range(h) if sum(dark[y]) > w * 0.3]
        print(min(cols), min(rows), max(cols), max(rows))
    elif cmd == "hlines":
        def dark_grey(p):
            c = (int(p[0:2], 16), int(p[2:4], 16), int(p[4:6], 16))
            return max(c) < 0xA0 and max(c) - min(c) < 0x20
        rows = [y for y in range(h) if sum(dark_grey(p) for p in px[y]) > w * 0.3]
        print(" ".join(str(y) for i, y in enumerate(rows) if i == 0 or rows[i - 1] != y - 1))
    elif cmd == "top":
        c, lo, hi = args[0].upper(), int(args[1]), int(args[2])
        y0, y1 = (int(args[3]), int(args[4])) if len(args) > 4 else (0, h - 1)
        for y in range(y0, y1 + 1):
            for x in range(lo, hi + 1):
                if px[y][x] == c:
                    print(x, y)
                    return
        print("none")
    elif cmd == "bbox":
        xmax, cs = int(args[0]), {c.upper() for c in args[1:]}
        pts = [(x, y) for y in range(h) for x in range(min(w, xmax)) if px[y][x] in cs]
        if not pts:
            print("none")
        else:
            print(min(p[0] for p in pts), min(p[1] for p in pts),
                  max(p[0] for p in pts), max(p[1] for p in pts))


main()
