"""System.Random(seed) of .NET (its seeded, Knuth-subtractive generator) and the library's Box-Muller normal draw
(src/ScoreCam.Onnx/Core/StandardNormal.cs), so that a reference draws the same noise as the library's seeded methods.

The generator: a ring of 55 values x_n = x_{n-55} - x_{n-34} mod (2^31 - 1), seeded as .NET seeds it; NextDouble()
= x_n / (2^31 - 1). Values are produced in numpy blocks of 34 (each depends only on values 34 and 55 places back).
"""
import numpy as np

MBIG, MSEED = 2147483647, 161803398


class NetRandom:
    def __init__(self, seed):
        ring = [0] * 56
        mj = MSEED - (MBIG if seed == -2147483648 else abs(seed))
        ring[55] = mj
        mk = 1
        for i in range(1, 55):
            ii = (21 * i) % 55
            ring[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += MBIG
            mj = ring[ii]
        for _ in range(4):
            for i in range(1, 56):
                ring[i] -= ring[1 + (i + 30) % 55]
                if ring[i] < 0:
                    ring[i] += MBIG
        # The sequence as .NET reads it: inext walks 1..55 from 1, inextp from 22, so x_n = ring'[n] - ring'[n + 21].
        self.history = np.array(ring[1:56], dtype=np.int64)  # x_{-55} .. x_{-1} in generation order
        self.buffer = np.empty(0, dtype=np.int64)

    def _generate(self, count):
        h = self.history
        out = []
        made = 0
        while made < count:
            # x_n = x_{n-55} - x_{n-34}; with the last 55 values h[0..54] (h[54] newest), the next 21 values only need h.
            n = 21
            block = h[:n] - h[21:21 + n]
            block[block < 0] += MBIG
            block[block == MBIG] -= 1
            h = np.concatenate([h[n:], block])
            out.append(block)
            made += n
        self.history = h
        return np.concatenate(out)

    def next_doubles(self, count):
        if len(self.buffer) < count:
            self.buffer = np.concatenate([self.buffer, self._generate(count - len(self.buffer) + 1024)])
        values, self.buffer = self.buffer[:count], self.buffer[count:]
        return values * (1.0 / MBIG)

    def standard_normals(self, count):
        """count draws of StandardNormal.Sample: sqrt(-2 ln(1 - U1)) cos(2 pi U2), U1 and U2 consecutive."""
        u = self.next_doubles(2 * count).reshape(count, 2)
        return np.sqrt(-2 * np.log(1 - u[:, 0])) * np.cos(2 * np.pi * u[:, 1])
