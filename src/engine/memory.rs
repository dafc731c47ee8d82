//! How much memory this process can still get, for refusing a request before
//! allocating it (MODEL.md §7).
//!
//! Three limits apply on Linux, and the least wins:
//! - the machine's `MemAvailable` (`/proc/meminfo`);
//! - the headroom of the process's memory cgroup, the limit of a container
//!   (Docker, Kubernetes, a JupyterHub pod): its limit less what it uses, its
//!   file cache (active and inactive, which the kernel reclaims before it
//!   kills) not counted (v1 or v2, at every level up to the root of the
//!   mounted hierarchy, since a parent's limit binds too);
//! - the headroom of the address-space limit (`ulimit -v`): the limit less the
//!   process's virtual size.
//!
//! A machine's `MemAvailable` alone lets a container's kernel be killed by the
//! OOM killer on a request that a refusal could have named.

/// Memory this process can get now, in bytes: the least of the limits above
/// (None if none is known, as off Linux).
pub fn available_memory() -> Option<u128> {
    #[cfg(target_os = "linux")]
    {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let machine = read("/proc/meminfo").and_then(|t| meminfo_available(&t));
        let cgroup = read("/proc/self/cgroup").and_then(|t| cgroup_headroom(&t, "/sys/fs/cgroup", read));
        [machine, cgroup, address_space_headroom()].into_iter().flatten().min()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// A `Resource` error if `copies` of `per_copy` bytes, and `extra` bytes besides,
/// exceed the memory available, described by `what` (given the size of one copy).
pub fn refuse_beyond_memory(
    per_copy: u128,
    copies: u128,
    extra: u128,
    what: impl FnOnce(&str) -> String,
) -> crate::error::Result<()> {
    let needed = copies * per_copy + extra;
    match available_memory() {
        Some(avail) if needed > avail => Err(crate::error::CoreError::Resource {
            what: what(&crate::error::human_bytes(per_copy)),
            needed: crate::error::human_bytes(needed),
            limit: format!("{} available", crate::error::human_bytes(avail)),
        }),
        _ => Ok(()),
    }
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn meminfo_available(text: &str) -> Option<u128> {
    kib_field(text, "MemAvailable:")
}

/// The value of a `name  123 kB` line, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u128> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A number in a cgroup file (None for `max`, an unlimited v2 limit).
fn number(text: Option<String>) -> Option<u128> {
    text?.trim().parse().ok()
}

/// The sum of the values of the `name 123` lines of a cgroup's `memory.stat`
/// for `names` (0 for a name that is missing).
fn stat_sum(text: Option<String>, names: &[&str]) -> u128 {
    let Some(text) = text else {
        return 0;
    };
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            names.contains(&name).then(|| w.next()?.parse::<u128>().ok())?
        })
        .sum()
}

/// v1 writes "no limit" as a number near 2^63.
const V1_UNLIMITED: u128 = 1 << 62;

/// The least headroom of the memory cgroups of `/proc/self/cgroup` (text
/// `cgroup_file`), read through `read` under `root` (normally `/sys/fs/cgroup`):
/// for each level from the process's cgroup up to the root of the mounted
/// hierarchy that has a limit, limit − (usage − file cache).
fn cgroup_headroom(cgroup_file: &str, root: &str, read: impl Fn(&str) -> Option<String>) -> Option<u128> {
    let mut least: Option<u128> = None;
    for line in cgroup_file.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        // v2: "0::/path", files memory.max/current; v1: "N:memory:/path" (perhaps with
        // other controllers), files under the memory hierarchy
        let (base, limit_file, usage_file, cache): (_, _, _, &[&str]) = if controllers.is_empty() {
            (
                root.to_string(),
                "memory.max",
                "memory.current",
                &["active_file", "inactive_file"],
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                format!("{root}/memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                &["total_active_file", "total_inactive_file"],
            )
        } else {
            continue;
        };
        // the process's own cgroup and its ancestors; in a container the hierarchy
        // mounted is the container's own, where the path may not exist: its root counts
        let mut dir = path.trim_end_matches('/').to_string();
        loop {
            let at = format!("{base}{dir}");
            let limit = number(read(&format!("{at}/{limit_file}"))).filter(|&l| l < V1_UNLIMITED);
            if let (Some(limit), Some(usage)) = (limit, number(read(&format!("{at}/{usage_file}")))) {
                let cache = stat_sum(read(&format!("{at}/memory.stat")), cache);
                let room = limit.saturating_sub(usage.saturating_sub(cache));
                least = Some(least.map_or(room, |l| l.min(room)));
            }
            match dir.rfind('/') {
                Some(i) => dir.truncate(i),
                None => break,
            }
        }
    }
    least
}

/// The address-space limit (`ulimit -v`) less the process's virtual size, in
/// bytes (None without a limit).
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
fn address_space_headroom() -> Option<u128> {
    const RLIMIT_AS: i32 = 9;
    extern "C" {
        fn getrlimit(resource: i32, rlim: *mut [u64; 2]) -> i32;
    }
    let mut lim = [0u64; 2];
    // SAFETY: getrlimit writes one `struct rlimit` (two 64-bit words on these
    // targets) to the pointer, which points at such a pair that we own.
    if unsafe { getrlimit(RLIMIT_AS, &mut lim) } != 0 || lim[0] == u64::MAX {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let size = kib_field(&status, "VmSize:")?;
    Some((lim[0] as u128).saturating_sub(size))
}

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
fn address_space_headroom() -> Option<u128> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn files(entries: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |p: &str| map.get(p).cloned()
    }

    #[test]
    fn meminfo_gives_mem_available_in_bytes() {
        let text = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   22000000 kB\n";
        assert_eq!(meminfo_available(text), Some(22_000_000 * 1024));
        assert_eq!(meminfo_available("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn a_v2_container_limit_less_its_usage_without_its_file_cache() {
        let read = files(&[
            ("/cg/memory.max", "4294967296\n"),
            ("/cg/memory.current", "1073741824\n"),
            (
                "/cg/memory.stat",
                "anon 700000000\nfile 300000000\nactive_file 100000000\ninactive_file 200000000\n",
            ),
        ]);
        let room = cgroup_headroom("0::/\n", "/cg", read);
        assert_eq!(room, Some(4_294_967_296 - (1_073_741_824 - 300_000_000)));
        // no limit at any level
        let read = files(&[("/cg/memory.max", "max\n"), ("/cg/memory.current", "5\n")]);
        assert_eq!(cgroup_headroom("0::/\n", "/cg", read), None);
    }

    #[test]
    fn a_parents_limit_binds_a_child_cgroup() {
        let read = files(&[
            ("/cg/user.slice/memory.max", "2000\n"),
            ("/cg/user.slice/memory.current", "1500\n"),
            ("/cg/user.slice/app/memory.max", "max\n"),
            ("/cg/user.slice/app/memory.current", "1000\n"),
        ]);
        assert_eq!(cgroup_headroom("0::/user.slice/app\n", "/cg", read), Some(500));
    }

    #[test]
    fn a_v1_limit_counts_and_its_unlimited_value_does_not() {
        let cg = "12:pids:/\n4:memory:/docker/abc\n0::/\n";
        let read = files(&[
            // the container's own hierarchy is mounted: its path is not there, the root is
            ("/cg/memory/memory.limit_in_bytes", "2147483648\n"),
            ("/cg/memory/memory.usage_in_bytes", "147483648\n"),
            (
                "/cg/memory/memory.stat",
                "cache 10\ntotal_active_file 40000000\ntotal_inactive_file 7483648\n",
            ),
        ]);
        assert_eq!(cgroup_headroom(cg, "/cg", read), Some(2_147_483_648 - 100_000_000));
        let read = files(&[
            ("/cg/memory/memory.limit_in_bytes", "9223372036854771712\n"),
            ("/cg/memory/memory.usage_in_bytes", "3175186432\n"),
        ]);
        assert_eq!(cgroup_headroom(cg, "/cg", read), None);
    }

    #[test]
    fn usage_above_the_limit_leaves_no_room() {
        let read = files(&[("/cg/memory.max", "100\n"), ("/cg/memory.current", "150\n")]);
        assert_eq!(cgroup_headroom("0::/\n", "/cg", read), Some(0));
    }
}
