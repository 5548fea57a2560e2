//! Measure the machine the agent runs on as a compute asset: CPU load, memory, disk and network.
//!
//! What is not measured is reported as zero rather than guessed: GPU load (`sysinfo` reads no
//! GPUs) and finished jobs (the agent runs no workloads).

use std::collections::BTreeSet;
use std::time::Instant;

use depin_types::telemetry::Metrics;
use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, System, MINIMUM_CPU_UPDATE_INTERVAL,
};

/// MiB.
const MIB: u64 = 1 << 20;

/// Interfaces whose traffic never leaves the machine, so it serves no one.
fn is_loopback(name: &str) -> bool {
    name == "lo" || name.starts_with("lo0") || name.starts_with("Loopback")
}

/// A sampler of this host's metrics. CPU load and network traffic are differences between two
/// samples, so the first [`HostMetrics::sample`] covers the time since [`HostMetrics::new`].
pub struct HostMetrics {
    system: System,
    disks: Disks,
    networks: Networks,
    cpu_refreshed: Instant,
}

impl HostMetrics {
    /// Start measuring: take the first CPU and network readings.
    pub fn new() -> HostMetrics {
        let mut system = System::new();
        system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
        let disks = Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage());
        let networks = Networks::new_with_refreshed_list();
        HostMetrics { system, disks, networks, cpu_refreshed: Instant::now() }
    }

    /// The compute metrics now. Blocks for up to 200 ms when called right after
    /// [`HostMetrics::new`] or the previous sample: the CPU load needs two readings at least
    /// that far apart.
    pub fn sample(&mut self) -> Metrics {
        let since = self.cpu_refreshed.elapsed();
        if since < MINIMUM_CPU_UPDATE_INTERVAL {
            std::thread::sleep(MINIMUM_CPU_UPDATE_INTERVAL - since);
        }
        self.system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
        self.cpu_refreshed = Instant::now();
        self.system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        // Re-list: file systems are mounted and unmounted while an agent runs.
        self.disks.refresh_specifics(true, DiskRefreshKind::nothing().with_storage());
        self.networks.refresh(true);

        Metrics::Compute {
            cpu_load_permille: cpu_permille(self.system.global_cpu_usage()),
            memory_used_mib: self.system.used_memory() / MIB,
            gpu_load_permille: 0,
            disk_used_mib: self.disk_used_bytes() / MIB,
            net_rx_bytes: self.net_bytes(|n| n.received()),
            net_tx_bytes: self.net_bytes(|n| n.transmitted()),
            jobs_done: 0,
        }
    }

    /// Bytes used on the machine's disks. A device mounted at several places (bind mounts,
    /// container overlays) is counted once.
    fn disk_used_bytes(&self) -> u64 {
        let mut seen = BTreeSet::new();
        self.disks
            .list()
            .iter()
            .filter(|d| seen.insert(d.name().to_os_string()))
            .map(|d| d.total_space().saturating_sub(d.available_space()))
            .fold(0u64, u64::saturating_add)
    }

    /// Bytes moved since the previous refresh over the interfaces that are not loopback.
    fn net_bytes(&self, bytes: impl Fn(&sysinfo::NetworkData) -> u64) -> u64 {
        self.networks
            .iter()
            .filter(|(name, _)| !is_loopback(name))
            .map(|(_, data)| bytes(data))
            .fold(0u64, u64::saturating_add)
    }
}

impl Default for HostMetrics {
    fn default() -> Self {
        HostMetrics::new()
    }
}

/// CPU usage in percent of all cores (sysinfo's average over CPUs) as per mille, 0–1000.
fn cpu_permille(percent: f32) -> u16 {
    if !percent.is_finite() {
        return 0;
    }
    // In range after the clamp, so the cast neither truncates nor saturates.
    (percent * 10.0).round().clamp(0.0, 1_000.0) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_metrics_are_sane() {
        let mut host = HostMetrics::new();
        for _ in 0..2 {
            let Metrics::Compute { cpu_load_permille, memory_used_mib, gpu_load_permille, jobs_done, .. } =
                host.sample()
            else {
                panic!("host metrics are compute metrics");
            };
            assert!(cpu_load_permille <= 1_000, "{cpu_load_permille}");
            assert!(memory_used_mib > 0, "a running test uses memory");
            assert_eq!((gpu_load_permille, jobs_done), (0, 0), "not measured: zero, not guessed");
        }
    }

    #[test]
    fn cpu_percent_maps_to_per_mille() {
        assert_eq!(cpu_permille(0.0), 0);
        assert_eq!(cpu_permille(12.34), 123);
        assert_eq!(cpu_permille(100.0), 1_000);
        assert_eq!(cpu_permille(100.7), 1_000);
        assert_eq!(cpu_permille(-1.0), 0);
        assert_eq!(cpu_permille(f32::NAN), 0);
    }
}
