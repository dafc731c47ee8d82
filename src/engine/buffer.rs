//! Large output buffers.
//!
//! Output arrays are zero-allocated (so the kernel's single write is their
//! first touch). With `GEOSCENARIO_HUGE_PAGES=1` in the environment, large ones
//! are advised to use transparent huge pages on Linux (one page fault per 2 MiB
//! instead of per 4 KiB). This is not the default: on the 2-core test VM huge
//! pages made first runs slower and erratic (the default world at 1,000,000
//! paths on one thread: 8–12 s against 4–7 s on fresh memory) and repeated runs
//! no faster.
//!
//! The arrays of a simulation that Python has let go of are kept for
//! [`KEEP`] and handed to the next simulation of the same size, which then
//! writes over them instead of paying for new memory (the kernel writes every
//! element). A background thread frees what is not reused in time, so memory
//! goes back to the system within seconds, as with a caching allocator. A
//! child forked from the process neither reuses nor keeps anything (its copy
//! of the list and of its lock may be stale).

use crate::error::{human_bytes, CoreError, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a released output buffer waits for reuse, by default.
pub const KEEP: Duration = Duration::from_secs(2);

/// The time a released buffer waits for reuse now, in milliseconds ([`KEEP`]
/// unless [`set_keep`] changed it).
static KEEP_MS: AtomicU64 = AtomicU64::new(KEEP.as_millis() as u64);

/// How long a released buffer waits for reuse now.
fn keep() -> Duration {
    Duration::from_millis(KEEP_MS.load(Ordering::Relaxed))
}

/// Let released buffers wait `keep` for reuse from now on (those already
/// released too); the previous time. (Tests lengthen it, so that a stalled
/// machine does not free a buffer between its release and the run meant to
/// reuse it.)
pub fn set_keep(keep: Duration) -> Duration {
    let ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(KEEP_MS.swap(ms, Ordering::Relaxed))
}

/// Buffers smaller than this are freed at once (cheap to allocate anew).
const MIN_CACHED_BYTES: usize = 4 << 20;

/// Released output buffers and when each was released.
static CACHE: Mutex<Vec<(Vec<f64>, Instant)>> = Mutex::new(Vec::new());

/// Whether the thread that frees expired buffers is running.
static REAPER: AtomicBool = AtomicBool::new(false);

fn cache() -> MutexGuard<'static, Vec<(Vec<f64>, Instant)>> {
    // a panic while holding the lock cannot leave the list inconsistent
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// `count` output buffers of `n` doubles: released buffers of exactly this
/// size first (their old contents are to be overwritten), then zeroed new
/// ones. Any other released buffer is freed first, to make room.
pub fn outputs(count: usize, n: usize) -> Result<Vec<Vec<f64>>> {
    // a refusal names the size of all the arrays, not of the one that failed
    let zeroed = |n: usize| {
        zeroed(n).map_err(|_| CoreError::Resource {
            what: format!("{count} output arrays of {n} values"),
            needed: human_bytes((count as u128) * (n as u128) * std::mem::size_of::<f64>() as u128),
            limit: "what the allocator could give".into(),
        })
    };
    let mut out = Vec::with_capacity(count);
    if !crate::pool::is_original_process() {
        return (0..count).map(|_| zeroed(n)).collect();
    }
    let stale: Vec<_> = {
        let mut c = cache();
        let (fit, other): (Vec<_>, Vec<_>) = c.drain(..).partition(|(b, _)| b.len() == n);
        let mut fit = fit.into_iter();
        out.extend(fit.by_ref().take(count).map(|(b, _)| b));
        c.extend(fit);
        other
    };
    drop(stale);
    if out.len() < count {
        // what is left cannot serve this run: free it before allocating
        drop(std::mem::take(&mut *cache()));
    }
    while out.len() < count {
        out.push(zeroed(n)?);
    }
    Ok(out)
}

/// Hand back an output buffer nobody uses any more, for reuse by the next
/// simulation of the same size within [`KEEP`].
pub fn release(buf: Vec<f64>) {
    if buf.len() * std::mem::size_of::<f64>() < MIN_CACHED_BYTES || !crate::pool::is_original_process() {
        return;
    }
    cache().push((buf, Instant::now()));
    if !REAPER.swap(true, Ordering::AcqRel) {
        let spawned = std::thread::Builder::new()
            .name("geoscenario-buffers".into())
            .spawn(reap);
        if spawned.is_err() {
            // no thread to free them later: do not keep any
            REAPER.store(false, Ordering::Release);
            drop(std::mem::take(&mut *cache()));
        }
    }
}

/// Bytes held by released buffers.
pub fn cached_bytes() -> u128 {
    if !crate::pool::is_original_process() {
        return 0;
    }
    cache()
        .iter()
        .map(|(b, _)| (b.len() * std::mem::size_of::<f64>()) as u128)
        .sum()
}

/// The freeing thread: every eighth of the keep time (at most a quarter
/// second), free the buffers released longer ago than it; stop when none is left.
fn reap() {
    loop {
        std::thread::sleep((keep() / 8).clamp(Duration::from_millis(1), KEEP / 8));
        let (expired, empty) = {
            let mut c = cache();
            let now = Instant::now();
            let keep = keep();
            let (old, young): (Vec<_>, Vec<_>) = c.drain(..).partition(|(_, t)| now - *t >= keep);
            *c = young;
            let empty = c.is_empty();
            if empty {
                // under the lock: a buffer released after this starts a new thread
                REAPER.store(false, Ordering::Release);
            }
            (old, empty)
        };
        drop(expired);
        if empty {
            return;
        }
    }
}

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

/// A zeroed vector of `n` doubles (on huge pages if asked for, see the module docs).
pub fn zeroed(n: usize) -> Result<Vec<f64>> {
    let v = try_zeroed::<f64>(n)?;
    advise_huge(v.as_ptr() as *const u8, n * std::mem::size_of::<f64>());
    Ok(v)
}

/// A zeroed vector of `n` bytes (on huge pages if asked for).
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
    static ASKED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let asked = *ASKED.get_or_init(|| std::env::var("GEOSCENARIO_HUGE_PAGES").is_ok_and(|v| v == "1"));
    if !asked || len < (4 << 20) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_allocation_names_every_array_it_was_for() {
        // more doubles than an allocation may hold: refused, never an abort
        let n = usize::MAX / 16;
        match outputs(17, n) {
            Err(CoreError::Resource { what, needed, .. }) => {
                assert_eq!(what, format!("17 output arrays of {n} values"));
                assert_eq!(needed, human_bytes(17 * n as u128 * 8));
            }
            other => panic!("{:?}", other.map(|v| v.len())),
        }
    }
}
