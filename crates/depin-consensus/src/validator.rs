//! Run one validator in production: Commonware's Tokio runtime on its own thread, the
//! authenticated `lookup` p2p network to the genesis validators, and the engine.
//!
//! The node (ledger, mempool, API) lives outside; this module only sequences its blocks. The
//! consensus journals and marshal archives are kept under `storage` (the home's
//! `data/consensus`), so a restarted validator resumes its votes there and never signs twice
//! for a view.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use commonware_cryptography::{ed25519, ChaCha20Poly1305, Signer as _};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _};
use commonware_runtime::{Clock, Metrics as _, Quota, Runner as _, Spawner as _, Supervisor as _};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::ordered::Map;
use commonware_utils::{NZUsize, NZU32};
use depin_node::config::ConsensusConfig;
use depin_node::{Node, ReplicationStatus, ValidatorView};
use futures::channel::oneshot;
use futures::FutureExt;

use crate::engine::{self, channel, Channels, EngineConfig};
use crate::identity::{consensus_key, participants, IdentityError};
use crate::replica::Replica;

/// Why a validator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The genesis has no p2p addresses: it describes a single-node chain.
    #[error("genesis validators have no p2p addresses; mode = \"bft\" needs a replicated genesis (see `depin testnet init`)")]
    NotReplicated,
    /// This node's key is not a genesis validator.
    #[error("this node's key {0} is not one of the genesis validators")]
    NotAValidator(String),
    /// A validator key or address is unusable.
    #[error("{0}")]
    Identity(#[from] IdentityError),
    /// A p2p address does not parse.
    #[error("validator {name}: {reason}")]
    Address {
        /// Validator name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The runtime thread could not start.
    #[error("cannot start the consensus thread: {0}")]
    Thread(String),
}

/// A running validator. [`Validator::stop`] (or dropping it) shuts consensus down.
pub struct Validator {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Validator {
    /// Stop consensus and wait for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The engine settings from the node's `[consensus]` config.
pub fn engine_config(node: &Node, cfg: &ConsensusConfig) -> EngineConfig {
    EngineConfig {
        namespace: node.chain().genesis().chain_id.as_bytes().to_vec(),
        partition: "depin".into(),
        leader_timeout: Duration::from_millis(cfg.leader_timeout_ms),
        notarization_timeout: Duration::from_millis(cfg.notarization_timeout_ms),
        nullify_retry: Duration::from_millis(cfg.nullify_retry_ms),
        fetch_timeout: Duration::from_millis(cfg.fetch_timeout_ms),
        activity_timeout_views: cfg.activity_timeout_views,
        max_block_bytes: cfg.max_block_bytes,
    }
}

/// Start sequencing `node`'s chain with the other genesis validators. `signer` is this node's
/// key (the one its blocks are signed with); `storage` holds the consensus journals.
pub fn start(node: Node, signer: ed25519::PrivateKey, cfg: &ConsensusConfig, storage: PathBuf) -> Result<Validator, StartError> {
    let genesis = node.chain().genesis().clone();
    if !genesis.is_replicated() {
        return Err(StartError::NotReplicated);
    }
    let me = signer.public_key();
    let set = participants(&genesis)?;
    let mut peers = Vec::new();
    let mut views = Vec::new();
    for v in &genesis.validators {
        let key = consensus_key(&v.public_key)?;
        let addr: SocketAddr = v
            .p2p_addr()
            .map_err(|e| StartError::Address { name: v.name.clone(), reason: e.to_string() })?
            .ok_or_else(|| StartError::Address { name: v.name.clone(), reason: "no p2p address".into() })?;
        views.push((key.clone(), v.name.clone(), v.public_key.clone(), v.p2p.clone()));
        peers.push((key, Address::Symmetric(addr)));
    }
    if !set.iter().any(|k| *k == me) {
        return Err(StartError::NotAValidator(crate::identity::depin_key(&me).to_string()));
    }
    let engine_cfg = engine_config(&node, cfg);
    let listen = cfg.p2p_listen;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("depin-consensus".into())
        .spawn(move || {
            let watched = node.clone();
            let runtime = commonware_runtime::tokio::Config::new().with_storage_directory(storage).with_worker_threads(2);
            let run = std::panic::AssertUnwindSafe(|| commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
                let namespace = engine_cfg.namespace.clone();
                let handshake = Cups::<_, ChaCha20Poly1305>::new(
                    Sake {
                        signer: signer.clone(),
                        synchrony_bound: Duration::from_secs(5),
                        max_handshake_age: Duration::from_secs(10),
                        version: sake::Version::V1,
                    },
                    cups::Version::V1,
                );
                let p2p_cfg = lookup::Config::local(
                    handshake,
                    &namespace,
                    listen,
                    NZUsize!(peers.len()),
                    engine::max_message_size(engine_cfg.max_block_bytes),
                    NZUsize!(4096),
                );
                let (mut network, mut oracle) = lookup::Network::new(context.child("p2p"), p2p_cfg);
                let _ = oracle.track(0, Map::from_iter_dedup(peers));
                // commonware-p2p sizes each channel's queue as peers x burst and allocates it up front: a
                // quota of 100k/s cost 5 GB per validator. 1,000 messages/s per peer and channel is far
                // above what votes (a few per view) or batched gossip need.
                let quota = Quota::per_second(NZU32!(1_000));
                let mut regs = channel::ALL.iter().map(|ch| network.register(*ch, quota)).collect::<Vec<_>>().into_iter();
                let mut next = || regs.next().expect("invariant: one registration per channel");
                let channels = Channels {
                    votes: next(),
                    certificates: next(),
                    resolver: next(),
                    blocks: next(),
                    backfill: next(),
                    txs: next(),
                };
                network.start();
                let metrics = Mutex::new(context.child("metrics"));
                node.add_metrics_source(Box::new(move || {
                    let text = metrics.lock().expect("invariant: metrics lock is never poisoned").encode();
                    // Our exposition already ends the document; drop the OpenMetrics terminator.
                    text.replace("# EOF\n", "")
                }));
                let replica = Replica::new(node.clone());
                let running = engine::start(
                    context.child("validator"),
                    replica,
                    signer,
                    set,
                    &engine_cfg,
                    channels,
                    oracle.clone(),
                    oracle,
                )
                .await;
                tracing::info!(%listen, validators = views.len(), "consensus started");
                let mut stop_rx = stop_rx.fuse();
                loop {
                    futures::select! {
                        _ = stop_rx => break,
                        _ = context.sleep(Duration::from_millis(500)).fuse() => {}
                    }
                    if node.is_stopping() {
                        break;
                    }
                    let now = context.current();
                    let connected = running.peers.connected(now);
                    node.set_replication(ReplicationStatus {
                        engine: "commonware-simplex 2026.10.0".into(),
                        finalized_height: running.tip.load(std::sync::atomic::Ordering::Relaxed),
                        view: running.watcher.view(),
                        peers_connected: connected.len(),
                        validators: views
                            .iter()
                            .map(|(key, name, public_key, p2p)| ValidatorView {
                                name: name.clone(),
                                public_key: public_key.clone(),
                                p2p: p2p.clone(),
                                is_self: *key == me,
                                connected: *key == me || connected.contains(key),
                            })
                            .collect(),
                    });
                }
                tracing::info!("consensus stopping");
                let _ = context.stop(0, Some(Duration::from_secs(5))).await;
            }));
            if std::panic::catch_unwind(run).is_err() {
                tracing::error!("consensus failed; stopping the node");
            }
            // Without consensus nothing is sequenced: a node left serving would only mislead.
            watched.request_stop();
        })
        .map_err(|e| StartError::Thread(e.to_string()))?;
    Ok(Validator { stop: Some(stop_tx), thread: Some(thread) })
}
