//! Measuring helpers shared by suites: machine description, UTC date, percentiles, a seeded
//! generator and a scoped parallel map.

use std::num::NonZeroUsize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::report::Machine;

/// The machine this process runs on: logical CPUs available to it and the CPU model name.
pub fn machine() -> Machine {
    Machine { cpus: cpus(), model: cpu_model().unwrap_or_else(|| "unknown".to_string()) }
}

/// Logical CPUs available to this process.
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// The first `model name` in `/proc/cpuinfo` (x86 Linux), else the first `Model`/`cpu model`.
fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    ["model name", "Model", "cpu model"].iter().find_map(|field| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == *field && !v.trim().is_empty()).then(|| v.trim().to_string())
        })
    })
}

/// Today's date in UTC from the system clock, `YYYY-MM-DD`.
pub fn utc_date() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (y, m, d) = depin_types::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}


/// Milliseconds since the Unix epoch (block timestamps).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Microseconds as a float.
pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Nearest-rank percentile (`p` in 0..=100) of `samples`, in µs; 0 for no samples.
pub(crate) fn percentile_us(samples: &[Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    // Nearest rank: the smallest sample with at least p% of samples at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    us(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The best (largest) of a few repeated rate measurements; 0 for none.
pub(crate) fn best(xs: Vec<f64>) -> f64 {
    xs.into_iter().fold(0.0, f64::max)
}

/// SplitMix64: a tiny seeded generator, so every run benchmarks the same workload.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0; the modulo bias is irrelevant for a workload).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// 32 random bytes.
    pub(crate) fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        out
    }
}

/// `items.iter().map(f)` on all cores, results in input order (workload preparation only;
/// measured paths use the project's own `verify_all_parallel`).
pub(crate) fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let chunk = items.len().div_ceil(cpus()).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                s.spawn(move || part.iter().map(f).collect::<Vec<U>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn percentiles_use_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile_us(&s, 50.0), 50.0);
        assert_eq!(percentile_us(&s, 99.0), 99.0);
        assert_eq!(percentile_us(&s[..1], 99.0), 1.0);
        assert_eq!(percentile_us(&[], 50.0), 0.0);
    }

    #[test]
    fn par_map_keeps_order() {
        let v: Vec<u32> = (0..1000).collect();
        assert_eq!(par_map(&v, |x| x * 2), v.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}
