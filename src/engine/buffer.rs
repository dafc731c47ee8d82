//! Large output buffers.
//!
//! Output arrays are zero-allocated (so the kernel's single write is their
//! first touch) and, on Linux, advised to use transparent huge pages: first
//! touch of a large array is otherwise dominated by page faults.

/// A zeroed vector of `n` doubles, backed by huge pages where the OS allows.
pub fn zeroed(n: usize) -> Vec<f64> {
    let v = vec![0.0f64; n];
    advise_huge(v.as_ptr() as *const u8, n * std::mem::size_of::<f64>());
    v
}

/// A zeroed vector of `n` bytes, backed by huge pages where the OS allows.
pub fn zeroed_u8(n: usize) -> Vec<u8> {
    let v = vec![0u8; n];
    advise_huge(v.as_ptr(), n);
    v
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
