//! Simulate an asset of any class: plausible metrics within its declared capacity, reproducible
//! from a seed, for demos, load tests and assets that are not at hand.
//!
//! Every value stays within what rule M-8 accepts for the capacity without its tolerance
//! (memory, storage, stored energy and hashrate below the declared amounts, production below
//! peak power over the interval, readings below one per sample period), so a simulated asset
//! is judged healthy. Gauges (load, bytes stored, battery) wander smoothly from report to
//! report; counters scale with the seconds in service since the previous report.

use depin_types::asset::{AssetClass, Capacity};
use depin_types::telemetry::Metrics;

use crate::rng::XorShift;

/// Bytes a wireless session carries at most.
const SESSION_BYTES_MAX: u64 = 8 << 20;
/// Network bytes a simulated server moves per second at most, each way.
const NET_BYTES_PER_S_MAX: u64 = 12_500_000;
/// Bytes a simulated storage server serves per second at most.
const SERVED_BYTES_PER_S_MAX: u64 = 50_000_000;
/// Disk a simulated server uses, MiB: from this floor, growing slowly.
const DISK_USED_MIB_FLOOR: u64 = 20_480;
/// Power a simulated mining rig draws at most, W.
const RIG_DRAW_W_MAX: u64 = 3_500;

/// Produces metrics for one simulated asset.
#[derive(Clone, Debug)]
pub struct Simulator {
    capacity: Capacity,
    rng: XorShift,
    /// The gauge that wanders: CPU load, storage fill or battery charge, per mille.
    level_permille: u64,
    /// Disk used by a simulated server, MiB.
    disk_used_mib: u64,
}

impl Simulator {
    /// A simulator of an asset with `capacity`; the same seed gives the same metrics.
    pub fn new(capacity: Capacity, seed: u64) -> Simulator {
        let mut rng = XorShift::new(seed);
        let level_permille = rng.range(300, 700);
        let disk_used_mib = DISK_USED_MIB_FLOOR + rng.range(0, 200_000);
        Simulator { capacity, rng, level_permille, disk_used_mib }
    }

    /// The simulated asset's class.
    pub fn class(&self) -> AssetClass {
        self.capacity.class()
    }

    /// The metrics of the next report, after `uptime_s` seconds in service since the previous
    /// one.
    pub fn sample(&mut self, uptime_s: u32) -> Metrics {
        let up = u64::from(uptime_s);
        // Wander by up to ±5 % per report, within 5 %–95 %.
        let step = self.rng.range(0, 100);
        self.level_permille = (self.level_permille + step).saturating_sub(50).clamp(50, 950);
        let level = self.level_permille;
        let r = &mut self.rng;
        match &self.capacity {
            Capacity::Wireless(_) => {
                let sessions = r.range(0, up / 10);
                Metrics::Wireless { bytes_served: r.range(0, sessions * SESSION_BYTES_MAX), sessions: to_u32(sessions) }
            }
            Capacity::Compute(c) => {
                self.disk_used_mib += r.range(0, up / 60);
                Metrics::Compute {
                    cpu_load_permille: to_u16(level),
                    memory_used_mib: r.share(c.memory_mib, 200, 900),
                    gpu_load_permille: if c.gpus.is_empty() { 0 } else { to_u16(r.range(0, 1_000)) },
                    disk_used_mib: self.disk_used_mib,
                    net_rx_bytes: r.range(0, up * NET_BYTES_PER_S_MAX),
                    net_tx_bytes: r.range(0, up * NET_BYTES_PER_S_MAX),
                    jobs_done: to_u32(r.range(0, up / 30)),
                }
            }
            Capacity::Storage(c) => Metrics::Storage {
                bytes_stored: share_of(c.bytes, level),
                bytes_served: r.range(0, up * SERVED_BYTES_PER_S_MAX),
                // One storage proof a minute, sometimes one missed.
                proofs_passed: to_u32(r.range((up / 60).saturating_sub(1), up / 60)),
            },
            Capacity::Energy(c) => {
                // Wh the panel could make over the interval at peak power.
                let peak_wh = mul_div(c.peak_w, up, 3_600);
                Metrics::Energy {
                    wh_produced: r.share(peak_wh, 0, 900),
                    wh_consumed: r.share(peak_wh, 0, 300),
                    wh_stored: share_of(c.storage_wh, level),
                    state_of_charge_permille: if c.storage_wh == 0 { 0 } else { to_u16(level) },
                }
            }
            Capacity::Sensor(c) => {
                // One reading per sample period; now and then one is missed.
                let full = mul_div(up, 1_000, u64::from(c.sample_period_ms.max(1)));
                Metrics::Sensor { readings: to_u32(r.range(full.saturating_sub(1), full)) }
            }
            Capacity::Mining(c) => Metrics::Mining {
                hashrate_hps: r.share(c.hashrate_hps, 850, 1_000),
                shares_accepted: to_u32(r.range(0, up / 10)),
                wh_consumed: mul_div(r.range(RIG_DRAW_W_MAX / 2, RIG_DRAW_W_MAX), up, 3_600),
            },
        }
    }
}

/// `whole × permille / 1000`.
fn share_of(whole: u64, permille: u64) -> u64 {
    mul_div(whole, permille.min(1_000), 1_000)
}

/// `a × b / d`, rounded down, saturating at `u64::MAX`.
fn mul_div(a: u64, b: u64, d: u64) -> u64 {
    u64::try_from(u128::from(a) * u128::from(b) / u128::from(d.max(1))).unwrap_or(u64::MAX)
}

fn to_u32(x: u64) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

fn to_u16(x: u64) -> u16 {
    u16::try_from(x).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One capacity per class, parsed as `depin asset register --capacity` would.
    fn capacities() -> Vec<Capacity> {
        [
            (AssetClass::Wireless, "band=cbrs,range_m=800"),
            (AssetClass::Compute, "cpu_cores=16,memory_mib=65536,arch=x86_64,gpu=h100:2"),
            (AssetClass::Compute, "cpu_cores=4,memory_mib=4096,arch=aarch64"),
            (AssetClass::Storage, "bytes=4_000_000_000_000,media=hdd,redundancy=mirror"),
            (AssetClass::Energy, "source=solar,peak_w=5000,storage_wh=13500"),
            (AssetClass::Energy, "source=wind,peak_w=2000"),
            (AssetClass::Sensor, "kind=particulate_matter,kind=temperature,sample_period_ms=1000"),
            (AssetClass::Mining, "algorithm=sha256d,hashrate_hps=100_000_000_000_000"),
        ]
        .into_iter()
        .map(|(class, text)| Capacity::parse(class, text).unwrap_or_else(|p| panic!("{text}: {p}")))
        .collect()
    }

    /// Rule M-8's bounds without tolerance (as `depin-state` checks them, with 1000 ‰).
    fn within(m: &Metrics, capacity: &Capacity, uptime_s: u32) -> bool {
        let up = u128::from(uptime_s);
        match (m, capacity) {
            (Metrics::Compute { cpu_load_permille, memory_used_mib, gpu_load_permille, .. }, Capacity::Compute(c)) => {
                *cpu_load_permille <= 1_000 && *gpu_load_permille <= 1_000 && *memory_used_mib <= c.memory_mib
            }
            (Metrics::Storage { bytes_stored, .. }, Capacity::Storage(c)) => *bytes_stored <= c.bytes,
            (Metrics::Energy { wh_produced, wh_stored, state_of_charge_permille, .. }, Capacity::Energy(c)) => {
                u128::from(*wh_produced) * 3_600 <= u128::from(c.peak_w) * up
                    && *wh_stored <= c.storage_wh
                    && *state_of_charge_permille <= 1_000
            }
            (Metrics::Sensor { readings }, Capacity::Sensor(c)) => {
                u128::from(*readings) * u128::from(c.sample_period_ms) <= up * 1_000
            }
            (Metrics::Mining { hashrate_hps, .. }, Capacity::Mining(c)) => *hashrate_hps <= c.hashrate_hps,
            (Metrics::Wireless { .. }, Capacity::Wireless(_)) => true,
            _ => false,
        }
    }

    #[test]
    fn simulated_metrics_stay_within_capacity_for_every_class() {
        let caps = capacities();
        for class in AssetClass::ALL {
            assert!(caps.iter().any(|c| c.class() == class), "no capacity for {class:?}");
        }
        for seed in 0..50u64 {
            for cap in &caps {
                let mut sim = Simulator::new(cap.clone(), seed);
                for (i, uptime_s) in
                    [0u32, 1, 15, 30, 59, 61, 300, 3_600, 86_400].into_iter().cycle().take(40).enumerate()
                {
                    let m = sim.sample(uptime_s);
                    assert_eq!(m.class(), cap.class());
                    assert!(
                        within(&m, cap, uptime_s),
                        "seed {seed}, report {i}, uptime {uptime_s} s: {m:?} exceeds {cap:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn counters_grow_with_time_in_service() {
        for cap in capacities() {
            let mut sim = Simulator::new(cap.clone(), 7);
            let idle = sim.sample(0);
            assert_eq!(idle.served(), 0, "nothing is served in no time: {idle:?}");
            assert_eq!(idle.wh_produced(), 0);
        }
        let sensor = Capacity::parse(AssetClass::Sensor, "kind=temperature,sample_period_ms=1000").unwrap();
        let Metrics::Sensor { readings } = Simulator::new(sensor, 1).sample(60) else { unreachable!() };
        assert!((59..=60).contains(&readings), "{readings}");
    }

    #[test]
    fn the_same_seed_simulates_the_same_asset() {
        for cap in capacities() {
            let run = |seed| {
                let mut sim = Simulator::new(cap.clone(), seed);
                (0..10).map(|_| sim.sample(30)).collect::<Vec<_>>()
            };
            assert_eq!(run(9), run(9));
            if cap.class() != AssetClass::Sensor {
                assert_ne!(run(9), run(10), "{cap:?}");
            }
        }
    }
}
