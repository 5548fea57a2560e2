//! Generate seeded example problems for tests and benchmarks (metros of H3 cells, mixed
//! classes, regions, distance limits and anti-affinity), integer-only like the rest.

use crate::{Asset, CostParams, DIMS, Near, Problem, Workload};

/// H3 base cells used as metro areas (hexagons, not pentagons, so every digit 0..=6 is valid).
const METRO_BASES: [u8; 8] = [20, 21, 30, 40, 51, 60, 70, 80];
/// Resolution of the asset cells the generator asserts.
pub const ASSET_RES: u8 = 8;
/// Resolution of a metro (the region most workloads name).
pub const METRO_RES: u8 = 4;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleSpec {
    /// Seed of every draw.
    pub seed: u64,
    /// Assets to generate.
    pub assets: usize,
    /// Workloads to generate.
    pub workloads: usize,
    /// Asset classes (1..=255).
    pub classes: u8,
    /// Metro areas (1..=8).
    pub metros: u8,
    /// Owners the assets are spread over.
    pub owners: u64,
    /// Free capacity per asset and dimension is drawn from `1..=10 × capacity_unit`; a replica
    /// asks 0 or `10..=100` per dimension, so 300 gives ample room and 60 gives contention.
    pub capacity_unit: u64,
}

impl SampleSpec {
    /// A problem of `assets` × `workloads` with ample capacity.
    #[must_use]
    pub fn new(seed: u64, assets: usize, workloads: usize) -> Self {
        SampleSpec {
            seed,
            assets,
            workloads,
            classes: 4,
            metros: 8,
            owners: 1 + assets as u64 / 20,
            capacity_unit: 300,
        }
    }
}

/// SplitMix64: a tiny seeded generator.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`; the modulo bias does not matter for samples).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `permille / 1000`.
    pub fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }
}

/// The raw H3 index of the cell with base cell `base` and resolution digits `digits` (each
/// 0..=6; the resolution is their count).
pub use depin_geo::raw_cell_index as cell_of;

/// Digits of metro `m` down to [`METRO_RES`] (fixed, so metros are stable across seeds).
fn metro_digits(m: u8) -> [u8; METRO_RES as usize] {
    [m % 7, (m + 3) % 7, (m + 5) % 7, 1]
}

/// A random cell of metro `m` at resolution `res` (`res >= METRO_RES`).
fn cell_in(rng: &mut SplitMix64, m: u8, res: u8) -> u64 {
    let mut digits: Vec<u8> = metro_digits(m).to_vec();
    while digits.len() < usize::from(res) {
        digits.push(rng.below(7) as u8);
    }
    cell_of(METRO_BASES[usize::from(m) % METRO_BASES.len()], &digits)
}

/// A seeded problem following `spec`.
#[must_use]
pub fn problem(spec: &SampleSpec) -> Problem {
    let mut rng = SplitMix64::new(spec.seed);
    let metros = spec.metros.clamp(1, METRO_BASES.len() as u8);
    let classes = spec.classes.max(1);
    let mut assets = Vec::with_capacity(spec.assets);
    for i in 0..spec.assets {
        let m = rng.below(u64::from(metros)) as u8;
        let mut free = [0; DIMS];
        let mut price = [0; DIMS];
        for d in 0..DIMS {
            free[d] = (1 + rng.below(10)) * spec.capacity_unit;
            price[d] = 1 + rng.below(20);
        }
        assets.push(Asset {
            id: 1_000_000 + i as u64,
            class: rng.below(u64::from(classes)) as u8,
            owner: rng.below(spec.owners.max(1)),
            cell: cell_in(&mut rng, m, ASSET_RES),
            free,
            price,
            min_lease_epochs: [1, 1, 1, 7, 90][rng.below(5) as usize],
            tier: rng.below(4) as u8,
            uptime_permille: 900 + rng.below(101) as u16,
            green: rng.chance(500),
            energy_source: rng.below(5) as u8,
            gpu_model: 0,
            metered_price: 0,
        });
    }
    let mut workloads = Vec::with_capacity(spec.workloads);
    for i in 0..spec.workloads {
        let m = rng.below(u64::from(metros)) as u8;
        let mut per_replica = [0; DIMS];
        for v in &mut per_replica {
            if rng.chance(850) {
                *v = 10 + rng.below(91);
            }
        }
        let regions = match rng.below(100) {
            0..50 => vec![cell_in(&mut rng, m, METRO_RES)],
            50..70 => vec![cell_in(&mut rng, m, METRO_RES + 1)],
            70..90 => {
                let other = rng.below(u64::from(metros)) as u8;
                vec![
                    cell_in(&mut rng, m, METRO_RES),
                    cell_in(&mut rng, other, METRO_RES),
                ]
            }
            _ => Vec::new(),
        };
        let near = rng.chance(300).then(|| Near {
            cell: cell_in(&mut rng, m, ASSET_RES),
            max_m: [0, 30_000, 60_000][rng.below(3) as usize],
        });
        let replicas = 1 + rng.below(3) as u16;
        let typical: u64 = per_replica.iter().sum::<u64>() * 10;
        workloads.push(Workload {
            id: i as u64,
            class: rng.below(u64::from(classes)) as u8,
            gpu_model: 0,
            per_replica,
            replicas,
            placed: Vec::new(),
            exclude: if rng.chance(50) {
                vec![rng.below(spec.assets.max(1) as u64) as u32]
            } else {
                Vec::new()
            },
            regions,
            near,
            distinct_owners: rng.chance(400),
            distinct_cells_res: rng.chance(200).then_some(6),
            distinct_energy: rng.chance(100),
            min_tier: if rng.chance(200) { 2 } else { 0 },
            min_uptime_permille: if rng.chance(200) { 950 } else { 0 },
            green_only: rng.chance(100),
            duration_epochs: 30,
            max_price: if rng.chance(100) {
                typical * 2
            } else {
                u64::MAX
            },
            max_metered_price: 0,
            all_or_nothing: rng.chance(800),
        });
    }
    Problem {
        assets,
        workloads,
        cost: CostParams {
            distance_penalty_per_km: 20,
            reliability_penalty_per_permille: 5,
        },
    }
}
