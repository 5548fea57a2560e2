//! Wire one validator: simplex consensus, marshal (ordered finalized blocks, backfill), block
//! broadcast, transaction gossip and the depin application, over any Commonware runtime and
//! network (Tokio + authenticated lookup in production, deterministic + simulated in tests).

use std::time::Duration;

use commonware_broadcast::buffered;
use commonware_consensus::marshal::{Config as MarshalConfig, Start};
use commonware_consensus::marshal::core::Actor as MarshalActor;
use commonware_consensus::marshal::resolver::p2p as marshal_resolver;
use commonware_consensus::marshal::standard::Inline;
use commonware_consensus::simplex::{self, elector::RoundRobin};
use commonware_consensus::simplex::config::{Floor, ForwardPolicy, SkipBudget, SkipPolicy};
use commonware_consensus::simplex::scheme::ed25519::Scheme as CertScheme;
use commonware_consensus::types::{Epoch, FixedEpocher, ViewDelta};
use commonware_consensus::Reporters;
use commonware_cryptography::certificate::ConstantProvider;
use commonware_cryptography::{ed25519, Sha256};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_cryptography::Digested;
use commonware_cryptography::certificate::Verifier as _;
use commonware_storage::archive::immutable;
use commonware_utils::ordered::Set;
use commonware_utils::{NZDuration, NZU16, NZU64, NZUsize};
use rand_core::CryptoRng;

use crate::app::{commit_loop, App, Finalizer};
use crate::block::{digest_of, ChainBlock};
use crate::evidence::Watcher;
use crate::gossip;
use crate::replica::Replica;

/// Timeouts and sizes of one validator's engine.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Namespace every consensus signature is bound to (the chain id: votes for one chain
    /// can never count on another).
    pub namespace: Vec<u8>,
    /// Prefix of the storage partitions (journals and archives).
    pub partition: String,
    /// Wait for a leader's proposal this long before voting to skip the view.
    pub leader_timeout: Duration,
    /// Wait for a notarization this long before voting to skip the view.
    pub notarization_timeout: Duration,
    /// Resend a skip vote this often while a view is stuck.
    pub nullify_retry: Duration,
    /// Give up on a peer's answer to a fetch after this long.
    pub fetch_timeout: Duration,
    /// Views kept for late votes and fetches.
    pub activity_timeout_views: u64,
    /// Largest encoded transactions per block.
    pub max_block_bytes: usize,
}

/// The p2p channels of one validator.
pub struct Channels<S, R> {
    /// Consensus votes.
    pub votes: (S, R),
    /// Consensus certificates.
    pub certificates: (S, R),
    /// Consensus certificate fetches.
    pub resolver: (S, R),
    /// Block broadcast.
    pub blocks: (S, R),
    /// Marshal's backfill of finalized blocks.
    pub backfill: (S, R),
    /// Transaction gossip and liveness.
    pub txs: (S, R),
}

/// Channel numbers (the same on every network).
pub mod channel {
    /// Votes.
    pub const VOTES: u64 = 0;
    /// Certificates.
    pub const CERTIFICATES: u64 = 1;
    /// Certificate fetches.
    pub const RESOLVER: u64 = 2;
    /// Blocks.
    pub const BLOCKS: u64 = 3;
    /// Backfill.
    pub const BACKFILL: u64 = 4;
    /// Transactions.
    pub const TXS: u64 = 5;
    /// All, for registration loops.
    pub const ALL: [u64; 6] = [VOTES, CERTIFICATES, RESOLVER, BLOCKS, BACKFILL, TXS];
}

/// Largest message on any channel: a whole block plus certificate overhead.
pub fn max_message_size(max_block_bytes: usize) -> u32 {
    u32::try_from(max_block_bytes + 64 * 1024).expect("invariant: block limit is far below 4 GiB")
}

/// Handles of a running validator's tasks.
pub struct Running {
    /// Shared status sources (peers seen, evidence, views).
    pub watcher: Watcher,
    /// Liveness of peers seen on the gossip channel.
    pub peers: gossip::PeerTable,
    /// Highest finalized height consensus reported.
    pub tip: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The consensus engine task.
    pub consensus: Handle<()>,
}

/// Start every part of one validator under `context`. Aborting the task that owns `context`
/// stops them all.
#[allow(clippy::too_many_arguments)]
pub async fn start<E, S, R, P, B>(
    context: E,
    replica: Replica,
    signer: ed25519::PrivateKey,
    participants: Set<ed25519::PublicKey>,
    cfg: &EngineConfig,
    channels: Channels<S, R>,
    peer_provider: P,
    blocker: B,
) -> Running
where
    E: Spawner + Metrics + Clock + Storage + CryptoRng + Send + Sync + 'static,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
    P: Provider<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
{
    use commonware_cryptography::Signer as _;
    let me = signer.public_key();
    let scheme = CertScheme::signer(&cfg.namespace, participants.clone(), signer)
        .expect("invariant: the caller checked that this node is a validator");
    let genesis_id = replica.node().chain().genesis().id();
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(1024));
    let mailbox_size = NZUsize!(1024);
    let prefix = &cfg.partition;

    // Marshal: ordered, durable delivery of finalized blocks, and backfill from peers.
    let marshal_cfg = MarshalConfig {
        provider: ConstantProvider::<CertScheme, Epoch>::new(scheme.clone()),
        epocher: FixedEpocher::new(NZU64!(1 << 62)),
        start: Start::Genesis(Digested::precomputed(ChainBlock::Genesis(genesis_id), digest_of(genesis_id))),
        partition_prefix: format!("{prefix}-marshal"),
        mailbox_size,
        view_retention: ViewDelta::new(cfg.activity_timeout_views),
        prunable_items_per_section: NZU64!(4096),
        page_cache: page_cache.clone(),
        replay_buffer: NZUsize!(1 << 20),
        key_write_buffer: NZUsize!(1 << 20),
        value_write_buffer: NZUsize!(1 << 20),
        block_codec_config: cfg.max_block_bytes,
        max_repair: NZUsize!(64),
        max_pending_acks: NZUsize!(16),
        strategy: Sequential,
    };
    let backfill = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peer_provider.clone(),
            blocker: blocker.clone(),
            mailbox_size,
            fetch_timeout: NZDuration!(cfg.fetch_timeout),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size,
            deque_size: 16,
            priority: false,
            codec_config: cfg.max_block_bytes,
            peer_provider: peer_provider.clone(),
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.blocks);
    let finalizations = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive_config(prefix, "finalizations", &page_cache, CertScheme::certificate_codec_config_unbounded()),
    )
    .await
    .expect("marshal's finalization archive opens");
    let blocks = immutable::Archive::init(
        context.child("finalized_blocks"),
        archive_config(prefix, "blocks", &page_cache, cfg.max_block_bytes),
    )
    .await
    .expect("marshal's block archive opens");
    let (actor, marshal, _floor) =
        MarshalActor::init(context.child("marshal"), finalizations, blocks, marshal_cfg).await;
    let (finalizer, updates, tip) = Finalizer::new();
    actor.start(finalizer, buffer, backfill);
    let commit_replica = replica.clone();
    context.child("commit").spawn(move |_| commit_loop(commit_replica, updates));

    // Transactions submitted to any validator reach every validator's pool (and so the leader).
    let peers = gossip::start(context.child("gossip"), replica.node().clone(), channels.txs);

    // Consensus.
    let app = App::new(replica.clone(), cfg.max_block_bytes, cfg.leader_timeout / 2);
    let inline = Inline::new(context.child("application"), app, marshal, FixedEpocher::new(NZU64!(1 << 62)));
    let watcher = Watcher::new(scheme.clone());
    // Faults consensus observes become evidence transactions signed by this validator.
    let (reporter_watcher, reporter_node) = (watcher.clone(), replica.node().clone());
    context.child("evidence").spawn(move |ctx| crate::evidence::report_loop(ctx, reporter_watcher, reporter_node));
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::config::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: Reporters::from((inline, watcher.clone())),
            // Keep votes after certification so that a conflicting vote arriving later is still
            // caught and reported as evidence, not only blocked.
            track_historical_votes: true,
            strategy: Sequential,
            partition: format!("{prefix}-simplex"),
            mailbox_size,
            epoch: Epoch::zero(),
            floor: Floor::Genesis(digest_of(genesis_id)),
            replay_buffer: NZUsize!(1 << 20),
            write_buffer: NZUsize!(1 << 20),
            page_cache,
            leader_timeout: cfg.leader_timeout,
            certification_timeout: cfg.notarization_timeout,
            timeout_retry: cfg.nullify_retry,
            view_retention: ViewDelta::new(cfg.activity_timeout_views),
            // Commonware requires the skip timeout to exceed the nullify retry.
            skip: SkipPolicy::Enabled { timeout: cfg.nullify_retry * 2, budget: SkipBudget::Participants },
            fetch_timeout: NZDuration!(cfg.fetch_timeout),
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::Disabled,
        },
    );
    let consensus = engine.start(channels.votes, channels.certificates, channels.resolver);
    Running { watcher, peers, tip, consensus }
}

fn archive_config<C>(prefix: &str, name: &str, page_cache: &CacheRef, codec_config: C) -> immutable::Config<C> {
    let p = |part: &str| format!("{prefix}-{name}-{part}");
    immutable::Config {
        metadata_partition: p("metadata"),
        freezer_table_partition: p("freezer-table"),
        freezer_table_initial_size: 1024,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 256,
        freezer_key_partition: p("freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: p("freezer-value"),
        freezer_value_target_size: 64 << 20,
        freezer_value_compression: None,
        ordinal_partition: p("ordinal"),
        items_per_section: NZU64!(4096),
        codec_config,
        replay_buffer: NZUsize!(1 << 20),
        freezer_key_write_buffer: NZUsize!(1 << 20),
        freezer_value_write_buffer: NZUsize!(1 << 20),
        ordinal_write_buffer: NZUsize!(1 << 20),
    }
}
