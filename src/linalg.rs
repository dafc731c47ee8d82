//! Small dense linear algebra: the Cholesky factor of the shock correlation matrix.

use crate::config::World;
use crate::error::{CoreError, Result};

/// Indices of the factors that take a diffusion shock, in factor order.
pub fn shocked_factors(w: &World) -> Vec<usize> {
    (0..w.factors.len())
        .filter(|&i| w.factors[i].kind.has_shock())
        .collect()
}

/// Lower-triangular L (row-major, d×d) with L·Lᵀ = R for the correlation matrix R
/// of the shocked factors. Positive semi-definite matrices are accepted (zero
/// pivots give zero columns); anything else is an error naming `correlations`.
pub fn correlation_cholesky(w: &World) -> Result<Vec<f64>> {
    let shocked = shocked_factors(w);
    let d = shocked.len();
    let mut r = vec![0.0; d * d];
    for i in 0..d {
        r[i * d + i] = 1.0;
    }
    let pos = |f: usize| shocked.iter().position(|&x| x == f).unwrap_or(usize::MAX);
    for &(a, b, rho) in &w.correlations {
        let (i, j) = (pos(a), pos(b));
        if i < d && j < d {
            r[i * d + j] = rho;
            r[j * d + i] = rho;
        }
    }
    cholesky_psd(&r, d).map_err(|k| {
        let name = |i: usize| &w.factors[shocked[i]].name;
        let why = match inconsistent_triple(&r, d) {
            Some([a, b, c]) => format!(
                "the correlations of {:?}, {:?} and {:?} ({}, {} and {}) cannot hold together",
                name(a),
                name(b),
                name(c),
                r[a * d + b],
                r[a * d + c],
                r[b * d + c]
            ),
            None => format!("it fails at factor {:?}", name(k)),
        };
        CoreError::invalid(
            "correlations",
            format!("the correlation matrix is not positive semi-definite: {why}"),
        )
    })
}

/// The three factors (in order) whose correlations are furthest from possible on their
/// own, if any three are: the most negative determinant 1 + 2ρ_ab ρ_ac ρ_bc − ρ_ab² −
/// ρ_ac² − ρ_bc² of a 3 × 3 principal submatrix of the d × d correlation matrix `r`
/// (with |ρ| ≤ 1, such a matrix is positive semi-definite when its determinant is
/// not negative), below the factorisation's tolerance. A matrix can fail with every
/// three factors consistent (four or more conflict), and then there are none.
fn inconsistent_triple(r: &[f64], d: usize) -> Option<[usize; 3]> {
    let mut worst = (-1e-10, None);
    for a in 0..d {
        for b in a + 1..d {
            let ab = r[a * d + b];
            for c in b + 1..d {
                let (ac, bc) = (r[a * d + c], r[b * d + c]);
                let det = 1.0 + 2.0 * ab * ac * bc - ab * ab - ac * ac - bc * bc;
                if det < worst.0 {
                    worst = (det, Some([a, b, c]));
                }
            }
        }
    }
    worst.1
}

/// Cholesky factor of a symmetric PSD matrix; `Err(k)` names the failing row.
pub fn cholesky_psd(a: &[f64], d: usize) -> std::result::Result<Vec<f64>, usize> {
    const TOL: f64 = 1e-10;
    let mut l = vec![0.0; d * d];
    for j in 0..d {
        let mut diag = a[j * d + j];
        for k in 0..j {
            diag -= l[j * d + k] * l[j * d + k];
        }
        if diag < -TOL || !diag.is_finite() {
            return Err(j);
        }
        let ljj = if diag > TOL { diag.sqrt() } else { 0.0 };
        l[j * d + j] = ljj;
        for i in (j + 1)..d {
            let mut v = a[i * d + j];
            for k in 0..j {
                v -= l[i * d + k] * l[j * d + k];
            }
            if ljj > 0.0 {
                l[i * d + j] = v / ljj;
            } else if v.abs() > 1e-8 {
                // a zero pivot with a non-zero remainder: not PSD
                return Err(i);
            }
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_matrix_and_rejects_non_psd() {
        let a = [1.0, 0.6, 0.3, 0.6, 1.0, 0.2, 0.3, 0.2, 1.0];
        let l = cholesky_psd(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-14);
            }
        }
        // perfectly correlated: PSD, singular
        assert!(cholesky_psd(&[1.0, 1.0, 1.0, 1.0], 2).is_ok());
        // rho(a,b)=0.9, rho(b,c)=0.9, rho(a,c)=-0.9 is not PSD
        let bad = [1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0];
        assert!(cholesky_psd(&bad, 3).is_err());
    }

    #[test]
    fn the_most_inconsistent_three_factors_are_named_when_any_three_are() {
        // a, b, c impossible together (as above); d consistent with each
        let mut r = vec![0.0; 16];
        for i in 0..4 {
            r[i * 4 + i] = 1.0;
        }
        let mut set = |i: usize, j: usize, v: f64| (r[i * 4 + j], r[j * 4 + i]) = (v, v);
        set(0, 2, 0.9);
        set(2, 3, 0.9);
        set(0, 3, -0.9);
        set(1, 2, 0.1);
        assert!(cholesky_psd(&r, 4).is_err());
        assert_eq!(inconsistent_triple(&r, 4), Some([0, 2, 3]));
        // ρ = 1 and 1, 1: singular, not inconsistent
        let ones = [1.0; 9];
        assert_eq!(inconsistent_triple(&ones, 3), None);
        // equicorrelated −0.4 over four factors: every three consistent (eigenvalue
        // 1 + 2ρ = 0.2), all four not (1 + 3ρ = −0.2)
        let equi: Vec<f64> = (0..16).map(|k| if k % 5 == 0 { 1.0 } else { -0.4 }).collect();
        assert!(cholesky_psd(&equi, 4).is_err());
        assert_eq!(inconsistent_triple(&equi, 4), None);
    }
}
