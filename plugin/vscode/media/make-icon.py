"""Draws media/icon.png (128x128, the Marketplace icon): the activity bar's
clock (errand.svg) in white on a blue rounded square. No image library
needed: 4x4 supersampling, then a PNG written by hand."""
import math
import struct
import zlib

SIZE, SS = 128, 4
BLUE, WHITE = (31, 111, 235), (255, 255, 255)


def covered(x, y):
    """What covers the point: 'ring'/'hand' (white), 'bg' (blue) or None."""
    c = SIZE / 2
    r = 16  # corner radius of the square
    dx, dy = max(r - x, 0, x - (SIZE - r)), max(r - y, 0, y - (SIZE - r))
    if dx * dx + dy * dy > r * r:
        return None
    d = math.hypot(x - c, y - c)
    if abs(d - 40) <= 5:
        return "ring"
    # The hands: up from the centre, then down-right (the svg's M12 7v5l3 3).
    if abs(x - c) <= 5 and c - 26 <= y <= c + 2:
        return "hand"
    t = ((x - c) + (y - c)) / 2
    if 0 <= t <= 18 and abs((x - c) - (y - c)) / math.sqrt(2) <= 5:
        return "hand"
    return "bg"


rows = []
for py in range(SIZE):
    row = bytearray([0])
    for px in range(SIZE):
        acc = [0.0, 0.0, 0.0, 0.0]
        for sy in range(SS):
            for sx in range(SS):
                what = covered(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS)
                if what is None:
                    continue
                rgb = BLUE if what == "bg" else WHITE
                for i in range(3):
                    acc[i] += rgb[i]
                acc[3] += 1
        n = acc[3]
        row += bytes([round(acc[0] / n), round(acc[1] / n), round(acc[2] / n)] if n else [0, 0, 0])
        row.append(round(255 * n / (SS * SS)))
    rows.append(bytes(row))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
with open(__file__.replace("make-icon.py", "icon.png"), "wb") as f:
    f.write(png)
