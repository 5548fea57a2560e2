//! Scenarios named as sentences: each `Why`, re-placement with running replicas, all or nothing.

use depin_alloc::sample::cell_of;
use depin_alloc::{Asset, CostParams, Near, Problem, Solution, Why, Workload, check, solve};

/// A cell at resolution 8 in base cell 20 with the given last digit.
fn cell(last: u8) -> u64 {
    cell_of(20, &[0, 1, 2, 3, 4, 5, 6, last])
}

fn asset(id: u64) -> Asset {
    Asset {
        id,
        class: 1,
        owner: id,
        cell: cell((id % 7) as u8),
        free: [100, 100, 100, 100],
        price: [1, 1, 1, 1],
        min_lease_epochs: 1,
        tier: 1,
        uptime_permille: 990,
        green: true,
        energy_source: (id % 3) as u8,
        gpu_model: 0,
        metered_price: 0,
    }
}

fn workload() -> Workload {
    Workload {
        class: 1,
        gpu_model: 0,
        per_replica: [10, 10, 10, 10],
        replicas: 2,
        duration_epochs: 30,
        max_price: u64::MAX,
        all_or_nothing: true,
        ..Workload::default()
    }
}

fn run(assets: Vec<Asset>, w: Workload) -> Solution {
    let p = Problem {
        assets,
        workloads: vec![w],
        cost: CostParams {
            distance_penalty_per_km: 10,
            reliability_penalty_per_permille: 1,
        },
    };
    let s = solve(&p);
    check(&p, &s).expect("valid");
    s
}

/// Three assets; `spoil` makes two of them fail one filter, so two replicas cannot be placed.
fn refused(spoil: impl Fn(&mut Asset), w: Workload) -> Solution {
    let mut assets = vec![asset(1), asset(2), asset(3)];
    for a in &mut assets[..2] {
        spoil(a);
    }
    let w = Workload {
        distinct_owners: true,
        ..w
    };
    run(assets, w)
}

fn why(s: &Solution) -> Why {
    assert_eq!(s.unplaced.len(), 1, "{s:?}");
    assert!(s.placements.is_empty());
    s.unplaced[0].why
}

#[test]
fn refuses_a_class_with_too_few_assets() {
    let s = refused(|a| a.class = 2, workload());
    assert_eq!(why(&s), Why::NoAssetOfClass);
    assert_eq!(s.unplaced[0].funnel.class, 1);
}

#[test]
fn a_named_gpu_model_takes_only_assets_of_that_model() {
    // Assets 1 and 2 carry model 7, asset 3 model 9; a workload naming 9 has one asset.
    let mut assets = vec![asset(1), asset(2), asset(3)];
    for (a, m) in assets.iter_mut().zip([7, 7, 9]) {
        a.gpu_model = m;
    }
    let w = Workload { gpu_model: 9, distinct_owners: true, ..workload() };
    let s = run(assets.clone(), w.clone());
    assert_eq!(why(&s), Why::NoAssetOfClass);
    assert_eq!(s.unplaced[0].funnel.class, 1);
    let s = run(assets.clone(), Workload { replicas: 1, ..w });
    assert_eq!(s.placements.len(), 1);
    assert_eq!(s.placements[0].asset, 2, "the model-9 asset, though the model-7 ones cost the same");
    // A workload that names no model takes any asset of the class.
    let s = run(assets, Workload { distinct_owners: true, ..workload() });
    assert_eq!(s.placements.len(), 2);
}

#[test]
fn a_metered_price_above_the_workloads_limit_counts_as_over_the_price() {
    let mut assets = vec![asset(1), asset(2), asset(3)];
    for a in &mut assets[..2] {
        a.metered_price = 5;
    }
    let w = Workload { distinct_owners: true, ..workload() };
    let s = run(assets.clone(), w.clone());
    assert_eq!(why(&s), Why::OverMaxPrice);
    assert_eq!(s.unplaced[0].funnel.price, 1);
    let s = run(assets, Workload { max_metered_price: 5, ..w });
    assert_eq!(s.placements.len(), 2);
}

#[test]
fn refuses_assets_outside_the_regions() {
    let region = cell_of(20, &[0, 1, 2, 3, 4, 5, 6]); // parent of every asset cell
    let other = cell_of(21, &[0, 1, 2]);
    let s = refused(
        |a| a.cell = cell_of(21, &[1, 1, 1, 1, 1, 1, 1, 1]),
        Workload {
            regions: vec![region, other],
            ..workload()
        },
    );
    // The spoiled assets are in base cell 21 but not under `other` (digit 0 vs 1).
    assert_eq!(why(&s), Why::OutsideRegion);
    let f = s.unplaced[0].funnel;
    assert_eq!((f.class, f.region), (3, 1));
}

#[test]
fn refuses_assets_beyond_the_maximum_distance() {
    let near = Near {
        cell: cell(0),
        max_m: 1,
    };
    // Two assets 3 grid steps away (hundreds of metres at resolution 8), one in the near cell.
    let mut assets = vec![asset(1), asset(2), asset(3)];
    assets[0].cell = cell(3);
    assets[1].cell = cell(3);
    assets[2].cell = cell(0);
    let s = run(
        assets,
        Workload {
            near: Some(near),
            distinct_owners: true,
            ..workload()
        },
    );
    assert_eq!(why(&s), Why::TooFar);
    assert_eq!(s.unplaced[0].funnel.distance, 1);
}

#[test]
fn refuses_a_low_attestation_tier() {
    let s = refused(
        |a| a.tier = 0,
        Workload {
            min_tier: 1,
            ..workload()
        },
    );
    assert_eq!(why(&s), Why::TierTooLow);
    assert_eq!(s.unplaced[0].funnel.tier, 1);
}

#[test]
fn refuses_low_uptime() {
    let s = refused(
        |a| a.uptime_permille = 900,
        Workload {
            min_uptime_permille: 950,
            ..workload()
        },
    );
    assert_eq!(why(&s), Why::UptimeTooLow);
}

#[test]
fn refuses_grey_energy_for_a_green_workload() {
    let s = refused(
        |a| a.green = false,
        Workload {
            green_only: true,
            ..workload()
        },
    );
    assert_eq!(why(&s), Why::NotGreen);
}

#[test]
fn refuses_a_minimum_lease_longer_than_the_workload() {
    let s = refused(|a| a.min_lease_epochs = 90, workload());
    assert_eq!(why(&s), Why::MinLeaseTooLong);
    assert_eq!(s.unplaced[0].funnel.lease_length, 1);
}

#[test]
fn refuses_assets_over_the_maximum_price() {
    let s = refused(
        |a| a.price = [5, 5, 5, 5],
        Workload {
            max_price: 100,
            ..workload()
        },
    );
    assert_eq!(why(&s), Why::OverMaxPrice);
}

#[test]
fn refuses_assets_without_free_capacity() {
    let s = refused(|a| a.free = [100, 5, 100, 100], workload());
    assert_eq!(why(&s), Why::NoCapacity);
    assert_eq!(s.unplaced[0].funnel.capacity, 1);
}

#[test]
fn no_capacity_counts_replicas_when_they_may_share_an_asset() {
    let mut a = asset(1);
    a.free = [15, 15, 15, 15];
    let s = run(
        vec![a],
        Workload {
            replicas: 2,
            ..workload()
        },
    );
    assert_eq!(why(&s), Why::NoCapacity);
}

#[test]
fn refuses_too_few_distinct_owners() {
    // Three assets, two of one owner: two distinct owners for three replicas.
    let mut assets = vec![asset(1), asset(2), asset(3)];
    assets[0].owner = 7;
    assets[1].owner = 7;
    let s = run(
        assets,
        Workload {
            distinct_owners: true,
            replicas: 3,
            ..workload()
        },
    );
    assert_eq!(why(&s), Why::TooFewDistinct);
    assert_eq!(
        (s.unplaced[0].funnel.capacity, s.unplaced[0].funnel.distinct),
        (3, 2)
    );
}

#[test]
fn an_earlier_workload_takes_the_capacity_of_a_later_one() {
    let mut a = asset(1);
    a.free = [10, 10, 10, 10];
    let w = Workload {
        replicas: 1,
        ..workload()
    };
    let p = Problem {
        assets: vec![a],
        workloads: vec![w.clone(), w],
        cost: CostParams::default(),
    };
    let s = solve(&p);
    check(&p, &s).unwrap();
    assert_eq!(s.placements.len(), 1);
    assert_eq!(
        s.placements[0].workload, 0,
        "the earlier workload has priority"
    );
    assert_eq!(s.unplaced[0].workload, 1);
    assert_eq!(s.unplaced[0].why, Why::TakenByCheaper);
    assert!(!Why::TakenByCheaper.describe().is_empty());
}

#[test]
fn replacement_keeps_anti_affinity_with_the_running_replicas() {
    // Replica 1 runs on asset 0 (owner 0); asset 1 failed and is excluded; assets 2 (owner 0,
    // cheapest) and 3 (owner 3) are left: the new replica must go to asset 3.
    let mut assets: Vec<Asset> = (0..4).map(asset).collect();
    assets[2].owner = 0;
    assets[3].price = [9, 9, 9, 9];
    let w = Workload {
        replicas: 1,
        placed: vec![0],
        exclude: vec![1],
        distinct_owners: true,
        all_or_nothing: false,
        ..workload()
    };
    let s = run(assets, w);
    assert_eq!(s.placements.len(), 1);
    assert_eq!(s.placements[0].asset, 3);
}

#[test]
fn replacement_places_what_fits() {
    let mut assets: Vec<Asset> = (0..3).map(asset).collect();
    assets[0].owner = 9;
    assets[1].owner = 9;
    let w = Workload {
        replicas: 3,
        distinct_owners: true,
        all_or_nothing: false,
        ..workload()
    };
    let s = run(assets, w);
    assert_eq!(s.placements.len(), 2);
    assert_eq!(s.unplaced[0].placed, 2);
    assert_eq!(s.unplaced[0].why, Why::TooFewDistinct);
}

#[test]
fn all_or_nothing_places_none_when_not_all_fit() {
    let mut assets: Vec<Asset> = (0..3).map(asset).collect();
    assets[0].owner = 9;
    assets[1].owner = 9;
    let w = Workload {
        replicas: 3,
        distinct_owners: true,
        all_or_nothing: true,
        ..workload()
    };
    let s = run(assets, w);
    assert!(s.placements.is_empty());
    assert_eq!(s.unplaced[0].placed, 0);
}

#[test]
fn replicas_share_an_asset_without_anti_affinity() {
    let s = run(
        vec![asset(1)],
        Workload {
            replicas: 3,
            ..workload()
        },
    );
    assert_eq!(s.placements.len(), 3);
    assert!(s.placements.iter().all(|p| p.asset == 0));
}
