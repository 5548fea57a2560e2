//! Spread transactions between validators, and tell which peers are alive.
//!
//! A transaction accepted by one validator's API is sent to every other validator, which
//! admits it to its own pool with the same checks (signature, chain, fee, nonce). So whichever
//! validator leads the next view holds it. Messages are batches (borsh `Vec<Transaction>`,
//! bounded); an empty batch every second is the liveness beacon behind `connected` in status.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use commonware_cryptography::ed25519;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Spawner, Supervisor};
use depin_node::Node;
use depin_types::codec::{decode_bounded, encode};
use depin_types::Transaction;
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};

/// Largest gossip batch, encoded.
pub const MAX_BATCH_BYTES: usize = 512 * 1024;
/// How often a validator announces itself when it has nothing to send.
pub const BEACON: Duration = Duration::from_secs(1);
/// A peer not heard from for this long is shown as disconnected.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(4);

/// When each peer was last heard from.
#[derive(Clone, Default)]
pub struct PeerTable(Arc<Mutex<BTreeMap<ed25519::PublicKey, SystemTime>>>);

impl PeerTable {
    fn saw(&self, peer: ed25519::PublicKey, at: SystemTime) {
        self.0.lock().expect("invariant: peer table lock is never poisoned").insert(peer, at);
    }

    /// Peers heard from within [`PEER_TIMEOUT`] of `now`.
    pub fn connected(&self, now: SystemTime) -> Vec<ed25519::PublicKey> {
        let table = self.0.lock().expect("invariant: peer table lock is never poisoned");
        table
            .iter()
            .filter(|(_, at)| now.duration_since(**at).map_or(true, |d| d <= PEER_TIMEOUT))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// Start the gossip tasks for `node` on the `(sender, receiver)` channel.
pub fn start<E, S, R>(context: E, node: Node, (sender, receiver): (S, R)) -> PeerTable
where
    E: Spawner + Clock + Supervisor + Send + Sync + 'static,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    let peers = PeerTable::default();
    let (queue, outbox) = mpsc::unbounded::<Transaction>();
    node.set_gossip(Box::new(move |tx: &Transaction| {
        let _ = queue.unbounded_send(tx.clone());
    }));
    context.child("send").spawn(move |ctx| send_loop(ctx, sender, outbox));
    let table = peers.clone();
    context.child("receive").spawn(move |ctx| receive_loop(ctx, node, receiver, table));
    peers
}

async fn send_loop<E: Clock, S: Sender<PublicKey = ed25519::PublicKey>>(
    clock: E,
    mut sender: S,
    mut outbox: mpsc::UnboundedReceiver<Transaction>,
) {
    loop {
        // Wait for a transaction or the beacon interval, then take everything queued.
        let first = futures::select! {
            tx = outbox.next() => match tx {
                Some(tx) => Some(tx),
                None => return,
            },
            _ = clock.sleep(BEACON).fuse() => None,
        };
        let mut batch: Vec<Transaction> = first.into_iter().collect();
        let mut bytes = batch.iter().map(|t| t.encode().len()).sum::<usize>();
        while bytes < MAX_BATCH_BYTES / 2 {
            match outbox.try_recv() {
                Ok(tx) => {
                    bytes += tx.encode().len();
                    batch.push(tx);
                }
                _ => break,
            }
        }
        sender.send(Recipients::All, encode(&batch), false);
    }
}

async fn receive_loop<E: Clock, R: Receiver<PublicKey = ed25519::PublicKey>>(
    clock: E,
    node: Node,
    mut receiver: R,
    peers: PeerTable,
) {
    while let Ok((peer, message)) = receiver.recv().await {
        peers.saw(peer.clone(), clock.current());
        let batch: Vec<Transaction> = match decode_bounded(message.as_ref(), MAX_BATCH_BYTES) {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "dropping a malformed transaction batch");
                continue;
            }
        };
        for tx in batch {
            // A peer's copy may be a duplicate or already stale here: that is expected.
            let _ = node.submit_from_peer(tx);
        }
    }
}
