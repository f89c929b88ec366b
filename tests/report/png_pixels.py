"""Pixels of an 8-bit RGB or RGBA PNG, decoded with zlib and numpy (from river).

Enough of the PNG specification (RFC 2083) to read a browser's screenshot:
non-interlaced, bit depth 8, colour type 2 (RGB) or 6 (RGBA), the five filters.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}


def read_png(path: Path) -> np.ndarray:
    """The image as a (height, width, 3) array of RGB bytes."""
    data = path.read_bytes()
    assert data[:8] == SIGNATURE, f"{path} is not a PNG"
    position, idat, header = 8, [], None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        position += 12 + length
    assert header is not None, "no IHDR chunk"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in CHANNELS and interlace == 0, header
    channels = CHANNELS[colour]
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    stride = width * channels
    rows = raw.reshape(height, stride + 1)
    image = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        image[y] = _unfilter(rows[y, 0], rows[y, 1:], previous, channels)
        previous = image[y]
    return image.reshape(height, width, channels)[:, :, :3]


def _unfilter(kind: int, line: np.ndarray, above: np.ndarray, bpp: int) -> np.ndarray:
    if kind == 0:
        return line
    if kind == 2:
        return (line.astype(np.uint16) + above).astype(np.uint8)
    if kind == 1:
        # Sub: each byte adds the one bpp before it, i.e. a running sum per channel.
        pixels = line.reshape(-1, bpp).astype(np.uint64)
        return (np.cumsum(pixels, axis=0) % 256).astype(np.uint8).reshape(-1)
    out = bytearray(len(line))
    up = above.tolist()
    for i, value in enumerate(line.tolist()):
        left = out[i - bpp] if i >= bpp else 0
        if kind == 3:
            out[i] = (value + (left + up[i]) // 2) & 0xFF
            continue
        upper_left = up[i - bpp] if i >= bpp else 0
        estimate = left + up[i] - upper_left
        pa, pb, pc = (
            abs(estimate - left),
            abs(estimate - up[i]),
            abs(estimate - upper_left),
        )
        if pa <= pb and pa <= pc:
            predictor = left
        elif pb <= pc:
            predictor = up[i]
        else:
            predictor = upper_left
        out[i] = (value + predictor) & 0xFF
    return np.frombuffer(bytes(out), dtype=np.uint8)
