//! Deterministic simulation of a 4-validator network (Commonware's deterministic runtime and
//! simulated network; real ledgers in temporary directories, real signatures).
//!
//! Each seed runs one schedule with message loss and latency jitter throughout:
//! 1. normal operation with transfers submitted to random validators;
//! 2. a partition {0,1} | {2,3}: no quorum anywhere, so nothing is finalized; then it heals;
//! 3. validator 2 crashes (its tasks aborted, its ledger closed) and restarts from disk;
//! 4. validator 3 turns Byzantine: every notarize vote it sends is doubled by one for a made-up
//!    proposal, and every finalize vote by a skip (nullify) vote for the same view.
//!
//! Asserted per seed: safety (the honest validators hold identical blocks and state roots at
//! every height they share, and each equals a replay from genesis), liveness (progress after
//! the partition heals, after the restart, and under equivocation; the restarted validator
//! catches up), and that the equivocation is recorded as evidence on every honest ledger (and
//! nobody else is accused).
//!
//! `DEPIN_SIM_SEEDS=N` runs N seeds (default 50); `DEPIN_SIM_SEED=S` runs only seed S. A
//! failing seed is printed with the command that reproduces it.

#![allow(clippy::print_stderr)] // the failing seed and how to replay it

use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_codec::{DecodeExt, Encode};
use commonware_consensus::simplex::scheme::ed25519::Scheme as CertScheme;
use commonware_consensus::simplex::types::{Notarize, Nullify, Proposal, Vote};
use commonware_cryptography::blake3::Digest;
use commonware_cryptography::ed25519;
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_p2p::{CheckedSender, LimitedSender, Recipients};
use commonware_runtime::{deterministic, Clock, Handle, IoBufs, Quota, Runner, Spawner, Supervisor};
use commonware_utils::{probability, NZUsize, NZU32};
use depin_consensus::engine::{self, channel, Channels, EngineConfig, Running};
use depin_consensus::identity::{consensus_key, consensus_signer, participants};
use depin_consensus::replica::Replica;
use depin_ledger::Ledger;
use depin_node::{Chain, Node, NodeConfig};
use depin_types::genesis::GenesisValidator;
use depin_types::{Amount, Genesis, GenesisAccount, Params, Scheme, SecretKey, TxBody, TxContent};

const VALIDATORS: usize = 4;
const USERS: usize = 4;
const BYZANTINE: usize = 3;
const CRASHED: usize = 2;
const CHAIN: &str = "sim";

fn sim_hash(bytes: &[u8]) -> depin_types::Hash32 {
    depin_crypto::hash_domain("depin/test/simulation", bytes)
}

fn key(seed: u64, who: &str, i: usize) -> SecretKey {
    let material = sim_hash(format!("{seed}/{who}/{i}").as_bytes());
    SecretKey::from_seeds(Scheme::Ed25519, &material.0).unwrap()
}

fn genesis(validators: &[SecretKey], users: &[SecretKey]) -> Genesis {
    Genesis {
        telemetry: Default::default(),
        market: Default::default(),
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        params: Params { min_fee: Amount(1), max_block_txs: 1_000 },
        validators: validators
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisValidator { name: format!("v{i}"), public_key: k.public_key(), p2p: None })
            .collect(),
        accounts: users
            .iter()
            .chain(validators)
            .map(|k| GenesisAccount { address: k.public_key().address(), balance: Amount(1_000_000_000) })
            .collect(),
    }
}

fn engine_config(i: usize) -> EngineConfig {
    EngineConfig {
        namespace: CHAIN.as_bytes().to_vec(),
        partition: format!("v{i}"),
        leader_timeout: Duration::from_secs(1),
        notarization_timeout: Duration::from_secs(2),
        nullify_retry: Duration::from_secs(5),
        fetch_timeout: Duration::from_secs(1),
        activity_timeout_views: 64,
        max_block_bytes: 1 << 20,
    }
}

/// A vote sender that doubles every notarize vote with one for a made-up proposal in the same
/// view, signed with the validator's own key: equivocation.
#[derive(Clone)]
struct Equivocating<S> {
    inner: S,
    scheme: CertScheme,
    enabled: Arc<Mutex<bool>>,
}

struct EquivocatingChecked<'a, S: LimitedSender + 'a> {
    checked: S::Checked<'a>,
    extra: S,
    scheme: CertScheme,
    enabled: bool,
}

impl<S: LimitedSender<PublicKey = ed25519::PublicKey>> LimitedSender for Equivocating<S> {
    type PublicKey = ed25519::PublicKey;
    type Checked<'a>
        = EquivocatingChecked<'a, S>
    where
        S: 'a;

    fn check(&mut self, recipients: Recipients<ed25519::PublicKey>) -> Result<Self::Checked<'_>, std::time::SystemTime> {
        let extra = self.inner.clone();
        let enabled = *self.enabled.lock().unwrap();
        let scheme = self.scheme.clone();
        Ok(EquivocatingChecked { checked: self.inner.check(recipients)?, extra, scheme, enabled })
    }
}

impl<'a, S: LimitedSender<PublicKey = ed25519::PublicKey> + 'a> CheckedSender for EquivocatingChecked<'a, S> {
    type PublicKey = ed25519::PublicKey;

    fn recipients(&self) -> Vec<ed25519::PublicKey> {
        self.checked.recipients()
    }

    fn send(mut self, message: impl Into<IoBufs> + Send, priority: bool) -> commonware_actor::Unreliable<commonware_actor::Feedback> {
        let message = message.into().coalesce();
        let bytes = message.as_ref().to_vec();
        let feedback = self.checked.send(message, priority);
        if !self.enabled {
            return feedback;
        }
        let conflicting = match Vote::<CertScheme, Digest>::decode(bytes) {
            // A second notarize for a made-up proposal in the same view.
            Ok(Vote::Notarize(n)) => {
                let fake = Digest(sim_hash(&n.proposal.payload.0).0);
                Notarize::<CertScheme, Digest>::sign(&self.scheme, Proposal::new(n.proposal.round, n.proposal.parent, fake))
                    .map(Vote::Notarize)
            }
            // A skip vote for a view it also voted to finalize.
            Ok(Vote::Finalize(f)) => Nullify::<CertScheme>::sign::<Digest>(&self.scheme, f.proposal.round).map(Vote::Nullify),
            _ => None,
        };
        if let Some(vote) = conflicting {
            commonware_p2p::Sender::send(&mut self.extra, Recipients::All, vote.encode(), priority);
        }
        feedback
    }
}

struct Validator {
    node: Arc<Mutex<Option<(Node, Running)>>>,
    handle: Option<Handle<()>>,
    dir: tempfile::TempDir,
}

#[allow(clippy::too_many_arguments)]
fn spawn_validator(
    context: &deterministic::Context,
    oracle: &Oracle<ed25519::PublicKey, deterministic::Context>,
    i: usize,
    key: &SecretKey,
    genesis: &Genesis,
    dir: &std::path::Path,
    slot: Arc<Mutex<Option<(Node, Running)>>>,
    equivocate: Option<Arc<Mutex<bool>>>,
) -> Handle<()> {
    let signer = consensus_signer(key).unwrap();
    let me = consensus_key(&key.public_key()).unwrap();
    let set = participants(genesis).unwrap();
    let genesis = genesis.clone();
    let key = SecretKey::from_seeds(Scheme::Ed25519, key.seeds()).unwrap();
    let dir = dir.to_path_buf();
    let oracle = oracle.clone();
    context.child("validator").with_attribute("index", i).spawn(move |ctx| async move {
        let ledger = Ledger::open(&dir.join("ledger"), &genesis, true).expect("ledger opens");
        let chain = Chain::new(ledger, genesis.clone(), Some(key));
        chain.repair_state().expect("state repairs");
        let node = Node::from_parts(chain, NodeConfig::default());
        let control = oracle.control(me.clone());
        let quota = Quota::per_second(NZU32!(100_000));
        let mut regs = Vec::new();
        for ch in channel::ALL {
            regs.push(control.register(ch, quota).await.expect("channel registers"));
        }
        let mut regs = regs.into_iter();
        let mut next = || regs.next().unwrap();
        let (votes_s, votes_r) = next();
        let scheme = CertScheme::signer(CHAIN.as_bytes(), set.clone(), signer.clone()).unwrap();
        let votes_s = Equivocating { inner: votes_s, scheme, enabled: equivocate.unwrap_or_default() };
        // Other channels keep the plain sender; wrap them in a disabled equivocator so every
        // channel has one type.
        let plain = |(s, r)| (Equivocating { inner: s, scheme: CertScheme::verifier(CHAIN.as_bytes(), set.clone()), enabled: Arc::default() }, r);
        let channels = Channels {
            votes: (votes_s, votes_r),
            certificates: plain(next()),
            resolver: plain(next()),
            blocks: plain(next()),
            backfill: plain(next()),
            txs: plain(next()),
        };
        let replica = Replica::new(node.clone());
        let running = engine::start(
            ctx.child("engine"),
            replica,
            signer,
            set,
            &engine_config(i),
            channels,
            oracle.manager(),
            control,
        )
        .await;
        *slot.lock().unwrap() = Some((node, running));
        futures::future::pending::<()>().await;
    })
}

async fn link_all(oracle: &Oracle<ed25519::PublicKey, deterministic::Context>, keys: &[ed25519::PublicKey], groups: &[&[usize]]) {
    let link = Link { latency: Duration::from_millis(20), jitter: Duration::from_millis(10), success_rate: probability!(0.95) };
    for (a, ka) in keys.iter().enumerate() {
        for (b, kb) in keys.iter().enumerate() {
            if a == b {
                continue;
            }
            let _ = oracle.remove_link(ka.clone(), kb.clone()).await;
            if groups.iter().any(|g| g.contains(&a) && g.contains(&b)) {
                oracle.add_link(ka.clone(), kb.clone(), link.clone()).await.unwrap();
            }
        }
    }
}

fn height(v: &Validator) -> u64 {
    v.node.lock().unwrap().as_ref().map_or(0, |(n, _)| n.chain().ledger().head().unwrap().height)
}

/// Run one seed; `Err` describes the violated property.
fn run(seed: u64) -> Result<(), String> {
    let cfg = deterministic::Config::default().with_seed(seed).with_timeout(Some(Duration::from_secs(600)));
    deterministic::Runner::new(cfg).start(|context| async move {
        let vkeys: Vec<SecretKey> = (0..VALIDATORS).map(|i| key(seed, "validator", i)).collect();
        let ukeys: Vec<SecretKey> = (0..USERS).map(|i| key(seed, "user", i)).collect();
        let genesis = genesis(&vkeys, &ukeys);
        let pks: Vec<ed25519::PublicKey> = vkeys.iter().map(|k| consensus_key(&k.public_key()).unwrap()).collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: engine::max_message_size(1 << 20),
                max_peers_per_set: NZUsize!(VALIDATORS),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            pks.clone(),
        )
        .await;
        network.start();
        link_all(&oracle, &pks, &[&[0, 1, 2, 3]]).await;

        let equivocate = Arc::new(Mutex::new(false));
        let mut validators: Vec<Validator> = Vec::new();
        for (i, k) in vkeys.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let slot = Arc::new(Mutex::new(None));
            let eq = (i == BYZANTINE).then(|| equivocate.clone());
            let handle = spawn_validator(&context, &oracle, i, k, &genesis, dir.path(), slot.clone(), eq);
            validators.push(Validator { node: slot, handle: Some(handle), dir });
        }

        // Transfers from users to validators' accounts, each sent to a random validator.
        let nonces = Arc::new(Mutex::new(vec![0u64; USERS]));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let nodes: Vec<_> = validators.iter().map(|v| v.node.clone()).collect();
        let submitter = {
            let (nonces, acked, ukeys) = (nonces.clone(), acked.clone(), ukeys.iter().map(|k| SecretKey::from_seeds(Scheme::Ed25519, k.seeds()).unwrap()).collect::<Vec<_>>());
            let to = vkeys[0].public_key().address();
            context.child("submitter").spawn(move |ctx| async move {
                let mut round = 0u64;
                loop {
                    ctx.sleep(Duration::from_millis(150)).await;
                    round += 1;
                    let u = (round as usize) % USERS;
                    let v = (sim_hash(&round.to_le_bytes()).0[0] as usize) % VALIDATORS;
                    let Some(node) = nodes[v].lock().unwrap().as_ref().map(|(n, _)| n.clone()) else { continue };
                    let nonce = nonces.lock().unwrap()[u];
                    let content = TxContent {
                        chain_id: CHAIN.into(),
                        signer: ukeys[u].public_key(),
                        nonce,
                        fee: Amount(1),
                        body: TxBody::Transfer { to, amount: Amount(7) },
                    };
                    let tx = content.sign(&ukeys[u]);
                    if let Ok(id) = node.submit(tx) {
                        nonces.lock().unwrap()[u] += 1;
                        acked.lock().unwrap().push(id);
                    } else {
                        // The validator may be behind on this sender's nonce; resync later.
                        let committed = node.account(&ukeys[u].public_key().address()).map(|a| a.nonce).unwrap_or(nonce);
                        let mut n = nonces.lock().unwrap();
                        n[u] = n[u].max(committed);
                    }
                }
            })
        };

        let honest = [0usize, 1, 2];
        let min_honest = |vs: &[Validator]| honest.iter().map(|&i| height(&vs[i])).min().unwrap();

        // Phase 1: normal operation.
        context.sleep(Duration::from_secs(8)).await;
        let h1 = min_honest(&validators);
        if h1 < 3 {
            return Err(format!("no progress in normal operation (height {h1})"));
        }

        // Phase 2: partition, then heal.
        link_all(&oracle, &pks, &[&[0, 1], &[2, 3]]).await;
        context.sleep(Duration::from_secs(6)).await;
        let during = validators.iter().map(height).max().unwrap();
        link_all(&oracle, &pks, &[&[0, 1, 2, 3]]).await;
        context.sleep(Duration::from_secs(15)).await;
        let h2 = min_honest(&validators);
        if h2 <= during {
            return Err(format!("no progress after the partition healed (stuck at {h2}, {during} during the partition)"));
        }

        // Phase 3: crash validator 2 and restart it from its files.
        let crashed = &mut validators[CRASHED];
        crashed.handle.take().unwrap().abort();
        *crashed.node.lock().unwrap() = None;
        context.sleep(Duration::from_secs(6)).await;
        let before_restart = height(&validators[0]);
        let v = &mut validators[CRASHED];
        v.handle = Some(spawn_validator(&context, &oracle, CRASHED, &vkeys[CRASHED], &genesis, v.dir.path(), v.node.clone(), None));
        context.sleep(Duration::from_secs(20)).await;
        let h3 = min_honest(&validators);
        if h3 <= before_restart {
            return Err(format!("the restarted validator did not catch up past {before_restart} (min honest height {h3})"));
        }

        // Phase 4: validator 3 equivocates.
        *equivocate.lock().unwrap() = true;
        let before_byz = min_honest(&validators);
        context.sleep(Duration::from_secs(20)).await;
        let h4 = min_honest(&validators);
        if h4 <= before_byz {
            return Err(format!("no progress while validator 3 equivocates (stuck at {h4})"));
        }
        let reported = honest.iter().any(|&i| {
            validators[i].node.lock().unwrap().as_ref().is_some_and(|(_, r)| !r.watcher.faults().is_empty())
        });
        if !reported {
            return Err("no honest validator reported the equivocation".into());
        }
        submitter.abort();

        // Safety: identical blocks and roots at every shared height, each a replay from genesis.
        let guards: Vec<_> = honest.iter().map(|&i| validators[i].node.lock().unwrap().as_ref().unwrap().0.clone()).collect();
        let top = guards.iter().map(|n| n.chain().ledger().head().unwrap().height).min().unwrap();
        for h in 1..=top {
            let ids: Vec<_> = guards.iter().map(|n| n.chain().ledger().block(h).unwrap().unwrap().id()).collect();
            let roots: Vec<_> = guards.iter().map(|n| n.chain().ledger().root_at(h).unwrap()).collect();
            if ids.windows(2).any(|w| w[0] != w[1]) || roots.windows(2).any(|w| w[0] != w[1]) {
                return Err(format!("honest validators disagree at height {h}: {ids:?} {roots:?}"));
            }
        }
        for n in &guards {
            let head = n.chain().ledger().head().unwrap();
            match depin_node::replay_from_genesis(n.chain().ledger(), &genesis).unwrap() {
                Ok(root) if root == head.state_root => {}
                other => return Err(format!("replay from genesis disagrees with the stored state: {other:?}")),
            }
        }
        // Evidence: the equivocation is on every honest ledger, and only validator 3 is accused.
        let byzantine = vkeys[BYZANTINE].public_key();
        for n in &guards {
            let records = n.evidence(None, None, 1_000).unwrap();
            if records.is_empty() {
                return Err("the equivocation was not recorded as evidence on an honest ledger".into());
            }
            if let Some((_, r)) = records.iter().find(|(_, r)| r.offender != byzantine) {
                return Err(format!("an honest validator was accused: {r:?}"));
            }
        }
        // Every transaction acknowledged by a validator that is committed is committed once.
        let committed = acked.lock().unwrap().iter().filter(|id| matches!(guards[0].tx_status(id), Ok(depin_node::TxStatus::Committed { .. }))).count();
        if committed == 0 {
            return Err("no submitted transaction was committed".into());
        }
        Ok(())
    })
}

#[test]
fn four_validators_stay_safe_and_live_under_loss_partition_crash_and_equivocation() {
    let seeds: Vec<u64> = match std::env::var("DEPIN_SIM_SEED") {
        Ok(s) => vec![s.parse().expect("DEPIN_SIM_SEED is a number")],
        Err(_) => {
            let n: u64 = std::env::var("DEPIN_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
            (0..n).collect()
        }
    };
    let mut failures = Vec::new();
    for seed in seeds {
        if let Err(e) = run(seed) {
            eprintln!("seed {seed} FAILED: {e}\n  reproduce: DEPIN_SIM_SEED={seed} cargo test -p depin-consensus --test simulation");
            failures.push(seed);
        }
    }
    assert!(failures.is_empty(), "failing seeds: {failures:?}");
}
