//! Large output buffers.
//!
//! Output arrays are zero-allocated (so the kernel's single write is their
//! first touch) and, on Linux, advised to use transparent huge pages: first
//! touch of a large array is otherwise dominated by page faults.

use crate::error::{human_bytes, CoreError, Result};

/// A zeroed vector of `n` elements allocated lazily (calloc), or an error
/// with the size when the allocator refuses: never an abort.
fn try_zeroed<T: Copy + Default>(n: usize) -> Result<Vec<T>> {
    let refuse = || CoreError::Resource {
        what: "output arrays".into(),
        needed: human_bytes((n as u128) * std::mem::size_of::<T>() as u128),
        limit: "what the allocator could give".into(),
    };
    if n == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(n).map_err(|_| refuse())?;
    // SAFETY: the layout has a non-zero size; a null pointer is handled; the
    // memory is zeroed, which is a valid value of the plain numeric `T` used
    // here (f64, u8); and the Vec takes ownership with the same layout.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut T;
        if ptr.is_null() {
            return Err(refuse());
        }
        Ok(Vec::from_raw_parts(ptr, n, n))
    }
}

/// A zeroed vector of `n` doubles, backed by huge pages where the OS allows.
pub fn zeroed(n: usize) -> Result<Vec<f64>> {
    let v = try_zeroed::<f64>(n)?;
    advise_huge(v.as_ptr() as *const u8, n * std::mem::size_of::<f64>());
    Ok(v)
}

/// A zeroed vector of `n` bytes, backed by huge pages where the OS allows.
pub fn zeroed_u8(n: usize) -> Result<Vec<u8>> {
    let v = try_zeroed::<u8>(n)?;
    advise_huge(v.as_ptr(), n);
    Ok(v)
}

#[cfg(target_os = "linux")]
fn advise_huge(ptr: *const u8, len: usize) {
    const MADV_HUGEPAGE: i32 = 14;
    const PAGE: usize = 4096;
    extern "C" {
        fn madvise(addr: *mut u8, len: usize, advice: i32) -> i32;
    }
    if len < (4 << 20) {
        return;
    }
    let start = (ptr as usize).div_ceil(PAGE) * PAGE;
    let end = (ptr as usize + len) / PAGE * PAGE;
    if end > start {
        // SAFETY: the range lies inside a live allocation we own; madvise only
        // changes the paging policy and never the contents. Failure is harmless.
        unsafe {
            madvise(start as *mut u8, end - start, MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_ptr: *const u8, _len: usize) {}

/// Memory the OS can give this process now, in bytes (None if unknown).
pub fn available_memory() -> Option<u128> {
    #[cfg(target_os = "linux")]
    {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
