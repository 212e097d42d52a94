#!/usr/bin/env python3
"""Draws Hearth's app icons (a house with a flame, on the accent colour) as PNG files in
public/: icon-192.png, icon-512.png, icon-maskable-512.png (full bleed, the drawing inside the
safe circle) and apple-touch-icon.png (180 px). Plain Python, no image library: each pixel is
4x4 supersampled against the shapes. Run from the repository root."""
import struct
import zlib

ACCENT = (0xB4, 0x53, 0x2A)
CREAM = (0xFA, 0xF7, 0xF2)
FLAME = (0xF2, 0x9E, 0x38)


def inside_triangle(x, y, a, b, c):
    def side(p, q):
        return (x - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (y - q[1])
    d1, d2, d3 = side(a, b), side(b, c), side(c, a)
    neg = d1 < 0 or d2 < 0 or d3 < 0
    pos = d1 > 0 or d2 > 0 or d3 > 0
    return not (neg and pos)


def rounded_square(x, y, r):
    cx = min(max(x, r), 1 - r)
    cy = min(max(y, r), 1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def colour_at(x, y, rounded, scale):
    """The colour at (x, y) in the unit square, or None (transparent)."""
    if rounded and not rounded_square(x, y, 0.22):
        return None
    # The drawing, scaled about the centre.
    u = (x - 0.5) / scale + 0.5
    v = (y - 0.5) / scale + 0.5
    flame = ((u - 0.5) ** 2 + (v - 0.66) ** 2 <= 0.095 ** 2) or inside_triangle(
        u, v, (0.405, 0.64), (0.595, 0.64), (0.5, 0.44))
    house = inside_triangle(u, v, (0.5, 0.16), (0.14, 0.47), (0.86, 0.47)) or (
        0.25 <= u <= 0.75 and 0.45 <= v <= 0.82)
    if house and flame:
        return FLAME
    if house:
        return CREAM
    return ACCENT


def draw(size, rounded, scale):
    rows = []
    n = 4
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = colour_at((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size,
                                  rounded, scale)
                    if c is not None:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 1
            if acc[3] == 0:
                row += bytes(4)
            else:
                row += bytes([acc[0] // acc[3], acc[1] // acc[3], acc[2] // acc[3],
                              255 * acc[3] // (n * n)])
        rows.append(bytes(row))
    return png(size, b"".join(rows))


def png(size, raw):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    for name, size, rounded, scale in [
        ("icon-192.png", 192, True, 1.0),
        ("icon-512.png", 512, True, 1.0),
        ("icon-maskable-512.png", 512, False, 0.72),
        ("apple-touch-icon.png", 180, False, 0.9),
    ]:
        with open(f"public/{name}", "wb") as f:
            f.write(draw(size, rounded, scale))
        print(f"public/{name}")
