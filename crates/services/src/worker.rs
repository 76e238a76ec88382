//! The loop shared by the outbox relay and the job runner: a round at once after a round
//! that found work, otherwise after a wake-up (a commit) or the poll interval (work from
//! other processes, retries coming due); the round in hand always finishes before a stop.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Notify;

use crate::ServiceResult;

/// Runs `round` (which returns how much it claimed) until `stop` resolves.
pub(crate) async fn run_rounds<F, Fut>(
    what: &'static str,
    poll: Duration,
    wake: &Notify,
    stop: impl Future<Output = ()>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ServiceResult<usize>>,
{
    let poll = poll.max(Duration::from_millis(1));
    tokio::pin!(stop);
    loop {
        let claimed = round().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "{what} round failed");
            0
        });
        if futures_util::FutureExt::now_or_never(&mut stop).is_some() {
            return;
        }
        if claimed > 0 {
            continue;
        }
        tokio::select! {
            () = &mut stop => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}
