//! The worker threads of the calls that come from Python.
//!
//! Rayon's global pool does not survive `fork()`: a child process inherits
//! the pool's bookkeeping but not its threads, so parallel work submitted
//! there would wait forever (`multiprocessing` forks by default on Linux).
//! Python entry points therefore run on a pool owned by the process that
//! made it; a forked child makes its own on first use. No lock is taken on
//! the way, so a fork at any moment leaves nothing held in the child.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

struct ProcessPool {
    pid: u32,
    pool: rayon::ThreadPool,
}

/// The current process's pool (leaked: it lives as long as the process).
static POOL: AtomicPtr<ProcessPool> = AtomicPtr::new(ptr::null_mut());

/// This process's pool, made on first use (None if no thread can be started).
fn current() -> Option<&'static rayon::ThreadPool> {
    let pid = std::process::id();
    let seen = POOL.load(Ordering::Acquire);
    // SAFETY: a non-null pointer in POOL comes from Box::into_raw below and is
    // never freed, so it stays valid for the rest of the process.
    if let Some(p) = unsafe { seen.as_ref() } {
        if p.pid == pid {
            return Some(&p.pool);
        }
    }
    // first use, or a child after fork(): the old pool's threads do not exist here
    let pool = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("geoscenario-{i}"))
        .build()
        .ok()?;
    let fresh = Box::into_raw(Box::new(ProcessPool { pid, pool }));
    match POOL.compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: `fresh` is now owned by POOL and never freed.
        Ok(_) => Some(unsafe { &(*fresh).pool }),
        Err(other) => {
            // another thread installed one first: use it, drop ours
            // SAFETY: `fresh` was not published, so this is its only owner.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: as above, a published pointer is never freed.
            unsafe { other.as_ref() }.filter(|p| p.pid == pid).map(|p| &p.pool)
        }
    }
}

/// Run `f` on this process's worker threads (rayon's global pool if no
/// thread can be started).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match current() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Whether this is the process that first called it: false in a child forked
/// after that, whose copies of process-wide state (threads, locks) are stale.
pub fn is_original_process() -> bool {
    use std::sync::atomic::AtomicU32;
    static FIRST: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    match FIRST.compare_exchange(0, pid, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => true,
        Err(first) => first == pid,
    }
}
