//! The small dense linear algebra the projections and baselines need, in f64: covariance,
//! symmetric eigen-decomposition (Jacobi) and the top eigenvectors of large covariances
//! (subspace iteration with a Rayleigh–Ritz step).

/// Row-major `rows × cols` matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Values, row after row.
    pub data: Vec<f64>,
}

impl Matrix {
    /// A zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Value at (r, c).
    #[inline]
    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    /// Mutable value at (r, c).
    #[inline]
    pub fn at(&mut self, r: usize, c: usize) -> &mut f64 {
        &mut self.data[r * self.cols + c]
    }

    /// One row.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Transpose.
    pub fn t(&self) -> Matrix {
        let mut out = Matrix::zeros(self.cols, self.rows);
        for r in 0..self.rows {
            for c in 0..self.cols {
                *out.at(c, r) = self.get(r, c);
            }
        }
        out
    }

    /// Product `self · other`.
    pub fn matmul(&self, other: &Matrix) -> Matrix {
        let mut out = Matrix::zeros(self.rows, other.cols);
        for r in 0..self.rows {
            for k in 0..self.cols {
                let a = self.get(r, k);
                if a == 0.0 {
                    continue;
                }
                let src = other.row(k);
                let dst = &mut out.data[r * other.cols..(r + 1) * other.cols];
                for (d, &b) in dst.iter_mut().zip(src) {
                    *d += a * b;
                }
            }
        }
        out
    }
}

/// Column means and covariance of `n` rows of `dim` values (f32 data, f64 results).
pub fn mean_and_covariance(data: &[f32], dim: usize) -> (Vec<f64>, Matrix) {
    let n = data.len() / dim;
    let mut mean = vec![0.0; dim];
    for row in data.chunks_exact(dim) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let mut cov = Matrix::zeros(dim, dim);
    let mut centred = vec![0.0; dim];
    for row in data.chunks_exact(dim) {
        for ((c, &v), m) in centred.iter_mut().zip(row).zip(&mean) {
            *c = f64::from(v) - m;
        }
        for i in 0..dim {
            let ci = centred[i];
            if ci == 0.0 {
                continue;
            }
            let dst = &mut cov.data[i * dim..i * dim + dim];
            for (d, &cj) in dst[i..].iter_mut().zip(&centred[i..]) {
                *d += ci * cj;
            }
        }
    }
    let denom = (n.max(2) - 1) as f64;
    for i in 0..dim {
        for j in i..dim {
            let v = cov.get(i, j) / denom;
            *cov.at(i, j) = v;
            *cov.at(j, i) = v;
        }
    }
    (mean, cov)
}

/// Eigenvalues (descending) and eigenvectors (rows of the returned matrix) of a symmetric
/// matrix, by cyclic Jacobi rotations.
pub fn symmetric_eigen(matrix: &Matrix) -> (Vec<f64>, Matrix) {
    let n = matrix.rows;
    let mut a = matrix.clone();
    let mut v = Matrix::zeros(n, n);
    for i in 0..n {
        *v.at(i, i) = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a.get(i, j).powi(2))
            .sum();
        let scale: f64 = a
            .data
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        if off <= 1e-24 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a.get(p, q);
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a.get(q, q) - a.get(p, p)) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a.get(k, p), a.get(k, q));
                    *a.at(k, p) = c * akp - s * akq;
                    *a.at(k, q) = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a.get(p, k), a.get(q, k));
                    *a.at(p, k) = c * apk - s * aqk;
                    *a.at(q, k) = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v.get(k, p), v.get(k, q));
                    *v.at(k, p) = c * vkp - s * vkq;
                    *v.at(k, q) = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a.get(j, j).total_cmp(&a.get(i, i)));
    let values = order.iter().map(|&i| a.get(i, i)).collect();
    let mut vectors = Matrix::zeros(n, n);
    for (row, &i) in order.iter().enumerate() {
        for k in 0..n {
            *vectors.at(row, k) = v.get(k, i);
        }
    }
    (values, vectors)
}

/// The `k` leading eigenpairs of a symmetric positive semi-definite matrix: subspace
/// iteration from a seeded start, then an exact Rayleigh–Ritz step. With `k` equal to the size
/// the answer is exact after one step.
pub fn top_eigen(matrix: &Matrix, k: usize, iterations: usize, seed: u64) -> (Vec<f64>, Matrix) {
    let n = matrix.rows;
    let k = k.min(n);
    let mut rng = fastrand::Rng::with_seed(seed);
    // Basis as rows (k × n).
    let mut basis = Matrix {
        rows: k,
        cols: n,
        data: (0..k * n).map(|_| rng.f64() - 0.5).collect(),
    };
    orthonormalise(&mut basis);
    let steps = if k == n { 0 } else { iterations };
    for _ in 0..steps {
        basis = basis.matmul(matrix);
        orthonormalise(&mut basis);
    }
    let projected = basis.matmul(matrix).matmul(&basis.t());
    let (values, small) = symmetric_eigen(&projected);
    (values, small.matmul(&basis))
}

/// Modified Gram–Schmidt on the rows; rows that collapse are replaced by unit vectors.
fn orthonormalise(m: &mut Matrix) {
    for i in 0..m.rows {
        for j in 0..i {
            let dot: f64 = m.row(i).iter().zip(m.row(j)).map(|(a, b)| a * b).sum();
            for c in 0..m.cols {
                let v = m.get(j, c);
                *m.at(i, c) -= dot * v;
            }
        }
        let norm = m.row(i).iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-12 {
            for c in 0..m.cols {
                *m.at(i, c) /= norm;
            }
        } else {
            m.data[i * m.cols..(i + 1) * m.cols].fill(0.0);
            *m.at(i, i % m.cols) = 1.0;
        }
    }
}
