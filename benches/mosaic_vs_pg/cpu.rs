//! Server CPU time from the kernel's own per-process accounting
//! (`/proc/<pid>/stat` utime + stime), summed over a process and its
//! descendants, so PostgreSQL's backends and helpers count like MosaicDB's
//! threads do.
//!
//! Trap: a child that exits between two samples takes its ticks with it
//! (they move to the parent's cutime, which is not counted). The benchmark
//! keeps its connections open across each measured window for that reason.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Clock ticks per second for the utime/stime fields.
fn ticks_per_sec() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// (ppid, utime + stime in ticks) of one process, if it still exists.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after it are
    // plain. After ')': state ppid ... utime is field 14, stime field 15.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ppid = f.get(1)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// CPU seconds used so far by `root` and all its live descendants.
pub fn tree_seconds(root: u32) -> f64 {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut ticks: HashMap<u32, u64> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some((ppid, t)) = stat(pid) {
                children.entry(ppid).or_default().push(pid);
                ticks.insert(pid, t);
            }
        }
    }
    let mut total = 0u64;
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        total += ticks.get(&pid).copied().unwrap_or(0);
        if let Some(kids) = children.get(&pid) {
            stack.extend(kids);
        }
    }
    total as f64 / ticks_per_sec()
}

/// CPU seconds used so far by this process (all threads).
pub fn self_seconds() -> f64 {
    tree_seconds(std::process::id())
}
