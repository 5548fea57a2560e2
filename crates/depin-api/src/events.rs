//! Stream node events to clients as server-sent events.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use depin_node::NodeEvent;
use depin_types::market::MarketEvent;
use futures_util::stream::{Stream, StreamExt};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use crate::{AppState, Shutdown, SSE_KEEP_ALIVE};

/// One SSE message for one broadcast item.
fn to_sse(item: Result<NodeEvent, BroadcastStreamRecvError>) -> Event {
    match item {
        Ok(event) => {
            let base = match &event {
                NodeEvent::Block { height, .. } => Event::default().event("block").id(height.to_string()),
                // Not resumable by Last-Event-ID (ids are block heights): no id.
                NodeEvent::Health { .. } => Event::default().event("health"),
                NodeEvent::Alert { .. } => Event::default().event("alert"),
                NodeEvent::Market { event, .. } => Event::default().event(market_event_name(event)),
            };
            match serde_json::to_string(&event) {
                Ok(json) => base.data(json),
                Err(e) => {
                    tracing::error!(error = %e, "node event did not serialize");
                    Event::default().comment("event could not be serialized")
                }
            }
        }
        Err(BroadcastStreamRecvError::Lagged(skipped)) => {
            tracing::debug!(skipped, "SSE subscriber lagged");
            Event::default()
                .event("lagged")
                .data(serde_json::json!({ "type": "lagged", "skipped": skipped }).to_string())
        }
    }
}

/// The SSE event name of a market event (stable: clients listen for these names).
fn market_event_name(e: &MarketEvent) -> &'static str {
    match e {
        MarketEvent::Placed { .. } => "placement",
        MarketEvent::LeaseClosed { .. } => "lease_closed",
        MarketEvent::Unplaced { .. } => "unplaced",
        MarketEvent::Escrow { .. } => "escrow",
        MarketEvent::WorkloadClosed { .. } => "workload_closed",
    }
}

/// Most committed blocks replayed to a subscriber resuming with `Last-Event-ID`; an older gap
/// is announced as `lagged` (the client then reads the blocks it missed from `/blocks/{h}`).
pub const MAX_SSE_REPLAY: u64 = 64;

/// The event stream of one subscriber: the blocks committed after `resume_after` (bounded by
/// [`MAX_SSE_REPLAY`]), then live events without duplicates; ends when the node stops
/// publishing or the server shuts down.
fn event_stream(
    live: tokio::sync::broadcast::Receiver<NodeEvent>,
    replay: Vec<Result<NodeEvent, BroadcastStreamRecvError>>,
    replayed_up_to: u64,
    shutdown: Option<Shutdown>,
) -> impl Stream<Item = Result<Event, Infallible>> + use<> {
    let live = BroadcastStream::new(live).filter(move |item| {
        // Subscribed before the replay was read: skip what the replay already sent.
        let keep = !matches!(item, Ok(NodeEvent::Block { height, .. }) if *height <= replayed_up_to);
        std::future::ready(keep)
    });
    futures_util::stream::iter(replay)
        .chain(live)
        .map(|item| Ok(to_sse(item)))
        .take_until(Shutdown::wait(shutdown))
}

/// The `Last-Event-ID` header as a height, if present and numeric.
fn last_event_id(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers.get("last-event-id")?.to_str().ok()?.trim().parse().ok()
}

/// Subscribe to events
///
/// A `text/event-stream` of node events. Each committed block is a message with
/// `event: block`, `id: <height>` and the JSON event as `data`. Health transitions of assets
/// whose telemetry this node has seen are `event: health` (`from`, `to`, `reasons`), and fired
/// `[alerts]` rules `event: alert` (`rule`, `detail`); neither has an id. What the market did
/// in a block follows that block's message, one message per market event (`type: market`,
/// `height`, and `event` tagged by `kind`), named `event: placement` (a replica was placed),
/// `lease_closed`, `unplaced` (a workload could not be fully placed: its reason `code`),
/// `escrow` (a workload's escrow notice changed) or `workload_closed` (with the credits
/// refunded); they have no id and are not replayed on reconnection (read `/workloads/{id}`). A subscriber that falls behind
/// gets one `event: lagged` message (`{"type":"lagged","skipped":N}`) and the stream continues
/// with the newest events. Keep-alive comments are sent every 15 seconds. A client reconnecting
/// with `Last-Event-ID: <height>` first receives the blocks committed since (at most 64; an
/// older gap is announced as `lagged`), then the live stream.
#[utoipa::path(
    get,
    path = "/events",
    tag = "node",
    operation_id = "events",
    responses(
        (status = 200, description = "Server-sent events; each `data` is an `Event` as JSON.", body = crate::schema::Event, content_type = "text/event-stream"),
    ),
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    shutdown: Option<Extension<Shutdown>>,
) -> Result<Response, crate::error::ApiError> {
    // Subscribe first, then read the head: a block committed in between is in both, and the
    // live side drops it.
    let live = state.node.subscribe();
    let (replay, replayed_up_to) = match last_event_id(&headers) {
        None => (Vec::new(), 0),
        Some(last) => {
            let head = state.blocking(depin_node::Node::status).await??.height;
            let from = last.saturating_add(1).max(head.saturating_sub(MAX_SSE_REPLAY - 1));
            let mut replay = Vec::new();
            if from > last.saturating_add(1) {
                replay.push(Err(BroadcastStreamRecvError::Lagged(from - last - 1)));
            }
            let events = state.blocking(move |n| n.block_events(from, head)).await??;
            replay.extend(events.into_iter().map(Ok));
            (replay, head)
        }
    };
    let stream = event_stream(live, replay, replayed_up_to, shutdown.map(|Extension(s)| s));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::Hash32;

    /// The wire form of one SSE message.
    fn wire(event: Event) -> String {
        use axum::response::IntoResponse as _;
        let stream = futures_util::stream::iter([Ok::<_, Infallible>(event)]);
        let body = Sse::new(stream).into_response().into_body();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(axum::body::to_bytes(body, 1 << 16)).unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn blocks_carry_event_name_id_and_json() {
        let event = NodeEvent::Block {
            height: 7,
            id: Hash32([1; 32]),
            timestamp_ms: 9,
            n_txs: 2,
            n_rejected: 1,
            state_root: Hash32([2; 32]),
        };
        let text = wire(to_sse(Ok(event)));
        assert!(text.contains("event: block\n"), "{text}");
        assert!(text.contains("id: 7\n"), "{text}");
        assert!(text.contains("data: {\"type\":\"block\",\"height\":7,"), "{text}");
    }

    #[test]
    fn market_events_are_named_by_kind() {
        let asset = depin_types::asset::AssetId(Hash32([3; 32]));
        let cases = [
            (
                MarketEvent::Placed { workload: 1, lease: 2, asset, terms: Default::default(), replaces: None },
                "placement",
            ),
            (
                MarketEvent::LeaseClosed {
                    workload: 1,
                    lease: 2,
                    asset,
                    reason: depin_types::market::CloseReason::AssetFailed,
                },
                "lease_closed",
            ),
            (MarketEvent::Unplaced { workload: 1, code: "no_capacity".into() }, "unplaced"),
            (MarketEvent::Escrow { workload: 1, notice: Default::default() }, "escrow"),
            (
                MarketEvent::WorkloadClosed {
                    workload: 1,
                    reason: depin_types::market::CloseReason::CancelledByConsumer,
                    refunded: depin_types::Amount(5),
                },
                "workload_closed",
            ),
        ];
        for (event, name) in cases {
            let text = wire(to_sse(Ok(NodeEvent::Market { height: 9, event })));
            assert!(text.contains(&format!("event: {name}\n")), "{text}");
            assert!(!text.contains("id:"), "{text}");
            assert!(text.contains("data: {\"type\":\"market\",\"height\":9,\"event\":{\"kind\":"), "{text}");
        }
    }

    #[test]
    fn a_lagged_subscriber_is_told_how_much_it_missed() {
        let text = wire(to_sse(Err(BroadcastStreamRecvError::Lagged(42))));
        assert!(text.contains("event: lagged\n"), "{text}");
        let data = text.lines().find_map(|l| l.strip_prefix("data: ")).expect("a data line");
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(v, serde_json::json!({ "type": "lagged", "skipped": 42 }));
    }

    #[tokio::test]
    async fn the_stream_goes_on_after_a_lag() {
        let (tx, rx) = tokio::sync::broadcast::channel(2);
        for h in 1..=5 {
            let _ = tx.send(NodeEvent::Block {
                height: h,
                id: Hash32::ZERO,
                timestamp_ms: h,
                n_txs: 0,
                n_rejected: 0,
                state_root: Hash32::ZERO,
            });
        }
        drop(tx);
        let items: Vec<_> = BroadcastStream::new(rx).collect().await;
        assert!(matches!(items[0], Err(BroadcastStreamRecvError::Lagged(3))));
        assert_eq!(items.len(), 3, "the lag, then the two newest events");
    }
}
