//! The event bus: fan-out of committed events to whoever listens in this process (and, with
//! a cluster adapter, in every process), e.g. live stock streams. Unlike the outbox it
//! promises nothing durable: a listener that is slow or absent misses events, which is why
//! anything that must happen (search indexing, sales counters) is an outbox subscriber.

use jangteo_core::events::DomainEvent;
use tokio::sync::broadcast;

pub trait EventBus: Send + Sync {
    /// Hands committed events to the current listeners; never blocks the committer.
    fn publish(&self, events: &[DomainEvent]);
    /// A receiver of events published from now on. A receiver that falls more than the
    /// buffer behind gets `Lagged` and skips ahead.
    fn subscribe(&self) -> broadcast::Receiver<DomainEvent>;
}

/// The in-process adapter: a tokio broadcast channel.
pub struct LocalBus {
    sender: broadcast::Sender<DomainEvent>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(4_096).0,
        }
    }
}

impl EventBus for LocalBus {
    fn publish(&self, events: &[DomainEvent]) {
        for e in events {
            // No receivers is not an error: nobody is listening right now.
            let _ = self.sender.send(e.clone());
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_get_events_published_after_they_subscribe() {
        let bus = LocalBus::default();
        bus.publish(&[DomainEvent::ProductChanged {
            product_id: jangteo_core::ids::ProductId::new(),
        }]);
        let mut rx = bus.subscribe();
        let e = DomainEvent::CategoryChanged {
            category_id: jangteo_core::ids::CategoryId::new(),
        };
        bus.publish(std::slice::from_ref(&e));
        assert_eq!(rx.recv().await.unwrap(), e);
        assert!(
            rx.try_recv().is_err(),
            "nothing from before the subscription"
        );
    }
}
