//! Runtime choice of instruction set for the hot loops.
//!
//! Each hot function is compiled three times (baseline x86-64, AVX2,
//! AVX-512) by `multiversion!` and the best one the CPU supports runs.
//! The kernels use only IEEE-754 basic operations and integer bit
//! manipulation (no fused multiply-add), so every tier returns the same bits;
//! a test checks it. `GEOSCENARIO_SIMD=generic|avx2|avx512` caps the tier.
//! Table look-ups are vector gathers or scalar loads ([`gathers`]), which
//! give the same bits too.

use std::sync::atomic::{AtomicU8, Ordering};

/// Baseline instructions only.
pub const GENERIC: u8 = 1;
/// AVX2.
pub const AVX2: u8 = 2;
/// AVX-512 (F, DQ, VL, BW).
pub const AVX512: u8 = 3;

static LEVEL: AtomicU8 = AtomicU8::new(0);

fn detect() -> u8 {
    #[cfg(target_arch = "x86_64")]
    {
        let cap = match std::env::var("GEOSCENARIO_SIMD").as_deref() {
            Ok("generic") => GENERIC,
            Ok("avx2") => AVX2,
            _ => AVX512,
        };
        let avx512 = std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw");
        let hw = if avx512 {
            AVX512
        } else if std::arch::is_x86_feature_detected!("avx2") {
            AVX2
        } else {
            GENERIC
        };
        hw.min(cap)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        GENERIC
    }
}

/// The tier in use.
#[inline]
pub fn level() -> u8 {
    match LEVEL.load(Ordering::Relaxed) {
        0 => {
            let l = detect();
            LEVEL.store(l, Ordering::Relaxed);
            l
        }
        l => l,
    }
}

/// Cap the tier (tests and benchmarks); returns the tier now in use.
pub fn set_max_level(max: u8) -> u8 {
    LEVEL.store(detect().min(max.max(GENERIC)), Ordering::Relaxed);
    level()
}

/// Whether table look-ups use vector gathers: 0 not yet decided, 1 no, 2 yes.
static GATHERS: AtomicU8 = AtomicU8::new(0);

/// Scalar loads unless `GEOSCENARIO_GATHERS=1`. On a Zen 4 EPYC the log-OU
/// kernel takes 0.46–0.47 s with the ziggurat's and `exp`'s look-ups as scalar
/// loads against 0.63 s with gathers (AMD's gathers are slow); on Intel CPUs
/// whose microcode mitigates Gather Data Sampling, gathers are slow too.
#[cold]
fn detect_gathers() -> bool {
    std::env::var("GEOSCENARIO_GATHERS").as_deref() == Ok("1")
}

/// Whether table look-ups use vector gathers (the same bits either way).
#[inline]
pub fn gathers() -> bool {
    match GATHERS.load(Ordering::Relaxed) {
        0 => set_gathers(detect_gathers()),
        g => g == 2,
    }
}

/// Choose gathers or scalar loads (tests); returns `on`.
#[cold]
pub fn set_gathers(on: bool) -> bool {
    GATHERS.store(1 + on as u8, Ordering::Relaxed);
    on
}

/// The name of a tier.
pub fn name(tier: u8) -> &'static str {
    match tier {
        AVX512 => "avx512",
        AVX2 => "avx2",
        _ => "generic",
    }
}

/// For tests that change the tier or the look-ups: holds them for the test and
/// restores what the machine and the environment choose when dropped (also on
/// a panic).
#[cfg(test)]
pub struct Pinned(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

/// Wait until no other test holds the tier and the look-ups, and hold them.
#[cfg(test)]
pub fn pin() -> Pinned {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    Pinned(LOCK.lock().unwrap_or_else(|e| e.into_inner()))
}

#[cfg(test)]
impl Drop for Pinned {
    fn drop(&mut self) {
        LEVEL.store(detect(), Ordering::Relaxed);
        GATHERS.store(0, Ordering::Relaxed);
    }
}

/// Define `fn $name(args) -> ret` compiled for each tier and dispatched at run time.
///
/// With `=> $body` in place of a block, the function is `$body::<TIER>(args)`,
/// an `unsafe fn` generic over the tier it is compiled for (`const TIER: u8`,
/// to be called only on CPUs that have it), so that it can use that tier's
/// intrinsics where the compiler would not.
macro_rules! multiversion {
    // `$body::<TIER>(args)` for the tier the CPU has, each call compiled for its tier
    (@dispatch $body:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2")]
            unsafe fn v4($($arg: $ty),*) -> $ret { $body::<{ $crate::simd::AVX512 }>($($arg),*) }
            #[target_feature(enable = "avx2")]
            unsafe fn v3($($arg: $ty),*) -> $ret { $body::<{ $crate::simd::AVX2 }>($($arg),*) }
            match $crate::simd::level() {
                // SAFETY: the tier was detected on this CPU.
                $crate::simd::AVX512 => return unsafe { v4($($arg),*) },
                $crate::simd::AVX2 => return unsafe { v3($($arg),*) },
                _ => {}
            }
        }
        // SAFETY: the generic tier uses baseline instructions only.
        unsafe { $body::<{ $crate::simd::GENERIC }>($($arg),*) }
    }};
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty => $body:ident) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            $crate::simd::multiversion!(@dispatch $body($($arg: $ty),*) -> $ret)
        }
    };
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn inner($($arg: $ty),*) -> $ret $body
            /// `inner`, the same for every tier.
            #[inline(always)]
            unsafe fn body<const TIER: u8>($($arg: $ty),*) -> $ret {
                inner($($arg),*)
            }
            $crate::simd::multiversion!(@dispatch body($($arg: $ty),*) -> $ret)
        }
    };
}
pub(crate) use multiversion;
