//! What the benchmarks share: the release binary, and timing whole processes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The release binary: `FOREWARN_BIN` when set (to compare two builds), else built here.
pub fn build_release_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("FOREWARN_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "--bin", "forewarn"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success(), "release build failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("release").join("forewarn")
}

pub fn run(cmd: &mut Command) {
    let status = cmd.status().expect("command runs");
    assert!(status.success(), "{cmd:?} failed");
}

pub fn time_to_null(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("command runs");
    let elapsed = t.elapsed();
    assert!(
        status.code().is_some_and(|c| c <= 1),
        "{cmd:?} failed: {status}"
    );
    elapsed
}

/// Two commands timed in turn, `runs` times each: a slow moment of the machine then falls on
/// both sides of a ratio, not on one. The ratio is the median of each pair's ratio.
pub struct Paired {
    /// Median times of each side.
    pub a: Duration,
    pub b: Duration,
    pub ratio: f64,
    pub lowest: f64,
    pub highest: f64,
}

impl Paired {
    pub fn spread(&self) -> String {
        format!("(pairs: {:.2}-{:.2})", self.lowest, self.highest)
    }
}

pub fn paired(
    runs: usize,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> Paired {
    let (mut times_a, mut times_b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let (ta, tb) = (a(), b());
        times_a.push(ta);
        times_b.push(tb);
        ratios.push(ratio(ta, tb));
    }
    times_a.sort();
    times_b.sort();
    ratios.sort_by(f64::total_cmp);
    Paired {
        a: times_a[times_a.len() / 2],
        b: times_b[times_b.len() / 2],
        ratio: ratios[ratios.len() / 2],
        lowest: ratios[0],
        highest: ratios[ratios.len() - 1],
    }
}

pub fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs.max(1)).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
}

pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// Peak resident memory of one run, in KiB, from the kernel's accounting of the child.
pub fn peak_rss_kib(cmd: &mut Command) -> u64 {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let mut child = child;
    let mut peak = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            for line in status.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    peak = peak.max(v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0));
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    peak
}
