//! What this test process holds: open file descriptors and resident memory (Linux `/proc`), for
//! tests that a server leaks neither. Both are process-wide, so such a test runs alone in its
//! test binary.

/// How many file descriptors this process has open (`/proc/self/fd`; 0 where it cannot be read).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// This process's resident memory in KiB (`VmRSS` of `/proc/self/status`; 0 where it cannot be
/// read).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
