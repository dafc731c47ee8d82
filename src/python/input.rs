//! Input arrays as the engine reads them with the GIL released.
//!
//! While the engine runs without the GIL, another Python thread may write a
//! NumPy array it reads, and Rust assumes that borrowed data does not change (a
//! value checked once is the value used). So an input is borrowed only when no
//! Python code can write its memory: read-only arrays all the way down to an
//! engine output buffer ([`super::OutputBuffer`]), whose arrays cannot be made
//! writable again. A simulation's paths are read this way, without a copy;
//! any other input is copied first.

use std::borrow::Cow;

use numpy::ndarray::Dimension;
use numpy::{Element, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::error::CoreError;

/// Whether no Python code can write the memory of `array`: every array on its
/// chain of bases is read-only, and the chain ends at an engine output buffer.
fn unwritable(array: &Bound<'_, PyAny>) -> bool {
    let mut obj = array.clone();
    // (a chain of views is short; the bound only guards against a cycle)
    for _ in 0..1024 {
        if obj.is_instance_of::<super::OutputBuffer>() {
            return true;
        }
        let writeable = obj
            .getattr("flags")
            .and_then(|f| f.getattr("writeable"))
            .and_then(|w| w.extract::<bool>());
        if !matches!(writeable, Ok(false)) {
            return false;
        }
        match obj.getattr("base") {
            Ok(base) if !base.is_none() => obj = base,
            // an array that owns its memory can be made writable again
            _ => return false,
        }
    }
    false
}

/// Copies of at most this many bytes are made without a check: the check reads
/// `/proc` and the cgroup files (about 80 µs), more than a small input's whole call.
const CHECKED_COPY_BYTES: u128 = 1 << 26;

/// An empty vector with room for `len` values of `T` (of the argument `name`), or a
/// `Resource` error if a copy that large would not fit in the memory available, or
/// could not be allocated: a broadcast array (`numpy.broadcast_to`) holds one value
/// under a shape of terabytes, and an allocation that fails aborts.
fn room<T>(len: usize, name: &str) -> Result<Vec<T>, CoreError> {
    let bytes = len as u128 * std::mem::size_of::<T>() as u128;
    let what = |_: &str| format!("a copy of {name} ({len} values) for the engine");
    if bytes > CHECKED_COPY_BYTES {
        crate::engine::memory::refuse_beyond_memory(bytes, 1, 0, what)?;
    }
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| CoreError::Resource {
        what: what(""),
        needed: crate::error::human_bytes(bytes),
        limit: "what the allocator could give".into(),
    })?;
    Ok(v)
}

/// `data`, borrowed if `array` cannot be written from Python, else a copy.
fn settled<'a, T: Element + Copy>(
    array: &Bound<'_, PyAny>,
    data: &'a [T],
    name: &str,
) -> Result<Cow<'a, [T]>, CoreError> {
    if unwritable(array) {
        Ok(Cow::Borrowed(data))
    } else {
        let mut copy = room(data.len(), name)?;
        copy.extend_from_slice(data);
        Ok(Cow::Owned(copy))
    }
}

/// The data of a contiguous 1-D array argument named `name`.
pub(crate) fn slice1<'a, T: Element + Copy>(
    a: &'a PyReadonlyArray1<'_, T>,
    name: &str,
) -> Result<Cow<'a, [T]>, CoreError> {
    let data = a
        .as_slice()
        .map_err(|_| CoreError::invalid(name, "must be a contiguous 1-D array"))?;
    settled(a.as_any(), data, name)
}

/// The data of a C-contiguous array argument named `name`, borrowed without a
/// copy, for a call that keeps the GIL while it reads them: no Python code can
/// write them meanwhile (where [`slice1`] copies what it cannot trust once the
/// GIL is released).
pub(crate) fn in_place<'a, T: Element, D: Dimension>(
    a: &'a PyReadonlyArray<'_, T, D>,
    name: &str,
) -> Result<&'a [T], CoreError> {
    a.as_slice()
        .map_err(|_| CoreError::invalid(name, "must be a C-contiguous array"))
}

/// The data and shape of a 2-D array argument named `name`, which must be C-contiguous.
pub(crate) fn slice2<'a, T: Element + Copy>(
    a: &'a PyReadonlyArray2<'_, T>,
    name: &str,
) -> Result<(Cow<'a, [T]>, usize, usize), CoreError> {
    let shape = a.shape();
    let (rows, cols) = (shape[0], shape[1]);
    if !a.is_c_contiguous() {
        return Err(CoreError::invalid(
            name,
            "must be a C-contiguous 2-D array (use numpy.ascontiguousarray)",
        ));
    }
    let data = a
        .as_slice()
        .map_err(|_| CoreError::invalid(name, "must be a C-contiguous 2-D array"))?;
    Ok((settled(a.as_any(), data, name)?, rows, cols))
}

/// Columns `cols` of a 2-D array argument `name` as `(data, stride, first)`: column `c`
/// of row `r` is `data[r * stride + c - first]`. Borrowed whole (no copy) when Python
/// cannot write the array and it is C-contiguous (`as_slice` takes a Fortran-order
/// array too, whose rows are not contiguous), else a copy of those columns alone in any
/// layout (an unpickled simulation's paths, say, read at one month).
pub(crate) fn columns<'a>(
    a: &'a PyReadonlyArray2<'_, f64>,
    cols: std::ops::Range<usize>,
    name: &str,
) -> Result<(Cow<'a, [f64]>, usize, usize), CoreError> {
    let width = a.shape()[1];
    if a.is_c_contiguous() {
        if let Ok(data) = a.as_slice() {
            if unwritable(a.as_any()) {
                return Ok((Cow::Borrowed(data), width, 0));
            }
        }
    }
    let view = a.as_array();
    let window = view.slice(ndarray::s![.., cols.clone()]);
    let mut copy = room(window.len(), name)?;
    copy.extend(window.iter().copied());
    Ok((Cow::Owned(copy), cols.len(), cols.start))
}

/// A copy of a 2-D array argument `name` in any layout (the small inputs of a fit or a
/// backtest).
pub(crate) fn owned2(a: &PyReadonlyArray2<'_, f64>, name: &str) -> Result<ndarray::Array2<f64>, CoreError> {
    let view = a.as_array();
    let mut copy = room(view.len(), name)?;
    copy.extend(view.iter().copied()); // (in logical, row-major order)
    ndarray::Array2::from_shape_vec(view.dim(), copy).map_err(|e| CoreError::Numerical(e.to_string()))
}
