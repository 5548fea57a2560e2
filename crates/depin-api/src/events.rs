//! Stream node events to clients as server-sent events.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use depin_node::NodeEvent;
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

/// The event stream of one subscriber: ends when the node stops publishing or the server shuts down.
fn event_stream(state: &AppState, shutdown: Option<Shutdown>) -> impl Stream<Item = Result<Event, Infallible>> + use<> {
    BroadcastStream::new(state.node.subscribe())
        .map(|item| Ok(to_sse(item)))
        .take_until(Shutdown::wait(shutdown))
}

/// Subscribe to events
///
/// A `text/event-stream` of node events. Each committed block is a message with
/// `event: block`, `id: <height>` and the JSON event as `data`. A subscriber that falls behind
/// gets one `event: lagged` message (`{"type":"lagged","skipped":N}`) and the stream continues
/// with the newest events. Keep-alive comments are sent every 15 seconds.
#[utoipa::path(
    get,
    path = "/events",
    tag = "node",
    operation_id = "events",
    responses(
        (status = 200, description = "Server-sent events; each `data` is an `Event` as JSON.", body = crate::schema::Event, content_type = "text/event-stream"),
    ),
)]
pub(crate) async fn events(State(state): State<AppState>, shutdown: Option<Extension<Shutdown>>) -> Response {
    let stream = event_stream(&state, shutdown.map(|Extension(s)| s));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE)).into_response()
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
