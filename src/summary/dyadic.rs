//! Order-independent summation: canonical pairwise sums over global indices.
//!
//! Values are summed along the fixed binary tree whose level-l nodes cover
//! the aligned index ranges [j·2^l, (j+1)·2^l). A contiguous range keeps the
//! canonical sums of its maximal aligned blocks; joining adjacent ranges merges
//! sibling blocks. So the total over 0..n has the same bits however the range
//! was split into chunks, threads or shards (IEEE addition is commutative,
//! and every addition happens at a fixed node of the tree).

/// Canonical sums of D-vectors over a contiguous range of indices.
#[derive(Debug, Clone, PartialEq)]
pub struct DyadicSum {
    dim: usize,
    /// (level, index at that level), in increasing index order.
    nodes: Vec<(u8, u64)>,
    /// `dim` values per node.
    values: Vec<f64>,
}

impl DyadicSum {
    /// An empty range of vectors of length `dim`.
    pub fn new(dim: usize) -> DyadicSum {
        DyadicSum {
            dim,
            nodes: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Append the vector of index `i` (the next index after the range).
    pub fn push(&mut self, i: u64, v: &[f64]) {
        debug_assert_eq!(v.len(), self.dim);
        self.values.extend_from_slice(v);
        self.nodes.push((0, i));
        self.cascade();
    }

    /// Append the vectors of indices `first..first + m` (`leaves`: m × dim,
    /// row-major), with the same bits as m calls of [`DyadicSum::push`]: the
    /// run is cut into maximal aligned blocks, each summed pairwise along its
    /// own subtree (an aligned block is a left child at every level below its
    /// own, so no earlier node can join part of it) and pushed as one node.
    /// `leaves` is used as scratch.
    pub fn extend_run(&mut self, first: u64, leaves: &mut [f64]) {
        let d = self.dim;
        if d == 0 {
            return;
        }
        let end = first + (leaves.len() / d) as u64;
        let mut i = first;
        while i < end {
            let mut level = i.trailing_zeros().min(62);
            while 1u64 << level > end - i {
                level -= 1;
            }
            let size = 1usize << level;
            let off = (i - first) as usize * d;
            let block = &mut leaves[off..off + size * d];
            match d {
                2 => pairwise(block, 2),
                _ => pairwise(block, d),
            }
            self.values.extend_from_slice(&block[..d]);
            self.nodes.push((level as u8, i >> level));
            self.cascade();
            i += size as u64;
        }
    }

    fn cascade(&mut self) {
        let d = self.dim;
        while self.nodes.len() >= 2 {
            let (lr, ir) = self.nodes[self.nodes.len() - 1];
            let (ll, il) = self.nodes[self.nodes.len() - 2];
            if ll != lr || il % 2 != 0 || il + 1 != ir {
                break;
            }
            let n = self.values.len();
            let (left, right) = self.values.split_at_mut(n - d);
            let left = &mut left[n - 2 * d..];
            for (a, b) in left.iter_mut().zip(right.iter()) {
                *a += *b;
            }
            self.values.truncate(n - d);
            self.nodes.pop();
            let last = self.nodes.len() - 1;
            self.nodes[last] = (ll + 1, il / 2);
        }
    }

    /// Join the range that follows this one.
    pub fn append(&mut self, other: &DyadicSum) {
        assert_eq!(self.dim, other.dim, "dimension mismatch");
        let d = self.dim;
        for (k, &node) in other.nodes.iter().enumerate() {
            self.values.extend_from_slice(&other.values[k * d..(k + 1) * d]);
            self.nodes.push(node);
            self.cascade();
        }
    }

    /// The total, folding the maximal blocks from left to right.
    pub fn total(&self) -> Vec<f64> {
        let d = self.dim;
        let mut out = vec![0.0; d];
        for k in 0..self.nodes.len() {
            for (o, v) in out.iter_mut().zip(&self.values[k * d..(k + 1) * d]) {
                *o += *v;
            }
        }
        out
    }

    /// Serialise: dim, node count, nodes, values (little endian).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.dim as u64).to_le_bytes());
        out.extend_from_slice(&(self.nodes.len() as u64).to_le_bytes());
        for &(l, i) in &self.nodes {
            out.push(l);
            out.extend_from_slice(&i.to_le_bytes());
        }
        for v in &self.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Inverse of [`DyadicSum::write`]; `None` on malformed input.
    pub fn read(buf: &mut &[u8]) -> Option<DyadicSum> {
        let dim = take_u64(buf)? as usize;
        let n = take_u64(buf)? as usize;
        // nodes of 9 bytes and n·dim values of 8 must follow: no allocation beyond the input
        if n > 200 || dim > 1 << 20 || n.checked_mul(9 + 8 * dim)? > buf.len() {
            return None;
        }
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            let (&l, rest) = buf.split_first()?;
            *buf = rest;
            nodes.push((l, take_u64(buf)?));
        }
        let mut values = Vec::with_capacity(n * dim);
        for _ in 0..n * dim {
            values.push(f64::from_bits(take_u64(buf)?));
        }
        Some(DyadicSum { dim, nodes, values })
    }
}

/// Sum a block of 2^l vectors of length `d` pairwise, in place, into its
/// first `d` values (inlined, so that a constant `d` unrolls).
#[inline(always)]
fn pairwise(block: &mut [f64], d: usize) {
    let mut n = block.len() / d;
    while n > 1 {
        n /= 2;
        for p in 0..n {
            for c in 0..d {
                block[p * d + c] = block[2 * p * d + c] + block[(2 * p + 1) * d + c];
            }
        }
    }
}

/// Read a little-endian u64 from the front of `buf`.
pub fn take_u64(buf: &mut &[u8]) -> Option<u64> {
    if buf.len() < 8 {
        return None;
    }
    let (head, rest) = buf.split_at(8);
    *buf = rest;
    Some(u64::from_le_bytes(head.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: u64) -> Vec<f64> {
        // values with very different magnitudes, so that the order matters
        (0..n)
            .map(|i| ((i * 2_654_435_761) % 1000) as f64 * 10f64.powi((i % 7) as i32 - 3) + 0.1)
            .collect()
    }

    fn sum_range(v: &[f64], a: u64, b: u64) -> DyadicSum {
        let mut s = DyadicSum::new(1);
        for i in a..b {
            s.push(i, &[v[i as usize]]);
        }
        s
    }

    #[test]
    fn any_split_gives_the_same_bits() {
        let n = 1_003u64;
        let v = values(n);
        let whole = sum_range(&v, 0, n).total();
        for cuts in [
            vec![1u64],
            vec![500],
            vec![7, 64, 65, 999],
            vec![3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987],
        ] {
            let mut bounds = vec![0u64];
            bounds.extend(cuts);
            bounds.push(n);
            let mut acc = DyadicSum::new(1);
            for w in bounds.windows(2) {
                acc.append(&sum_range(&v, w[0], w[1]));
            }
            assert_eq!(acc.total()[0].to_bits(), whole[0].to_bits());
            let mut bytes = Vec::new();
            acc.write(&mut bytes);
            let back = DyadicSum::read(&mut bytes.as_slice()).unwrap();
            assert_eq!(back, acc);
        }
        // runs appended in blocks: the same nodes as one push per index
        for (a, b) in [(0u64, n), (3, 700), (64, 128), (5, 6), (1, 1000)] {
            let mut run = sum_range(&v, 0, a);
            run.extend_run(a, &mut v[a as usize..b as usize].to_vec());
            assert_eq!(run, sum_range(&v, 0, b));
            let mut two = DyadicSum::new(2);
            let mut leaves: Vec<f64> = v[..b as usize].iter().flat_map(|&x| [x, x * x]).collect();
            two.extend_run(0, &mut leaves);
            let mut one_by_one = DyadicSum::new(2);
            for (i, &x) in v[..b as usize].iter().enumerate() {
                one_by_one.push(i as u64, &[x, x * x]);
            }
            assert_eq!(two, one_by_one);
        }
        let plain: f64 = v.iter().sum();
        assert!((whole[0] - plain).abs() <= 1e-12 * plain.abs());
    }
}
