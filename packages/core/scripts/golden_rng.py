#!/usr/bin/env python3
"""Golden values for packages/core/src/random/rng.test.ts.

An independent re-implementation of voxseg's Rng seeding (splitmix32 variant, FNV-1a for
strings) and of xoshiro128** as published by Blackman & Vigna
(https://prng.di.unimi.it/xoshiro128starstar.c), in plain Python integers masked to 32 bits.
Run: python3 packages/core/scripts/golden_rng.py > packages/core/src/random/rng.golden.json
"""
import json

M = 0xFFFFFFFF


def splitmix32(seed):
    x = seed & M

    def nxt():
        nonlocal x
        x = (x + 0x9E3779B9) & M
        z = x
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M
        return (z ^ (z >> 16)) & M

    return nxt


def fnv1a(s):
    h = 0x811C9DC5
    for ch in s:  # JS charCodeAt: UTF-16 code units; the test seeds are ASCII
        h ^= ord(ch)
        h = (h * 0x01000193) & M
    return h


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M


class Xoshiro128ss:
    def __init__(self, seed):
        if isinstance(seed, str):
            base, high = fnv1a(seed), 0
        else:
            base = seed & M  # JS: seed >>> 0 (ToUint32, modulo 2^32, also for negatives)
            high = (seed // 0x100000000) if abs(seed) > M else 0
        sm = splitmix32(base ^ (high & M))
        self.s = [sm(), sm(), sm(), sm()]
        if not any(self.s):
            self.s[0] = 1

    def next_u32(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 9) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result


def main():
    out = {"source": "packages/core/scripts/golden_rng.py (independent Python xoshiro128**)", "streams": []}
    for seed in [0, 1, 42, -1, 2**32 + 5, "brats"]:
        g = Xoshiro128ss(seed)
        out["streams"].append({"seed": seed, "uint32": [g.next_u32() for _ in range(8)]})
    # next() in [0,1): uint32 / 2^32, exactly representable in a double
    g = Xoshiro128ss(7)
    out["next_seed7"] = [g.next_u32() / 4294967296 for _ in range(4)]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
