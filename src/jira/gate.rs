//! The one door every Jira request passes: the configured rate (governor),
//! Jira's back-pressure shared by all callers, and arrival order.
//!
//! A 429 on any request pauses every caller for its `Retry-After` (or an
//! adaptive backoff without one: 1 s, doubling per 429 in a row, at most
//! [`MAX_PAUSE`]), then lets requests through at a reduced pace (the gap between
//! requests doubles per 429 episode, at most [`MAX_GAP`]) that recovers gradually
//! (the gap shrinks by a sixteenth per answered request). Callers
//! wait in a `tokio::sync::Mutex`, which is fair: they are served first in,
//! first out, so one caller cannot starve behind later ones.
//!
//! In a fleet (`JIRA_MCP_REDIS_URL`), the rate and the pause are the fleet's: the
//! governor limiter gives way to [`SharedRate`] (one budget per site and account in
//! Redis, with its own local fallback), and a 429's pause is also written there, so
//! every replica honours it. The queue, the adaptive backoff and the gap stay local.

use std::{
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::fleet::{Admission, SharedRate};

/// Longest adaptive pause after a 429 without `Retry-After`.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(30);
/// Longest extra gap between requests while recovering from a 429.
const MAX_GAP: Duration = Duration::from_secs(2);

/// The shared limiter. One per client; clones of the client share it.
#[derive(Debug)]
pub(crate) struct Gate {
    limiter: DefaultDirectRateLimiter,
    /// Fair (FIFO) queue of callers waiting for their turn.
    queue: tokio::sync::Mutex<()>,
    backoff: Mutex<Backoff>,
    /// One request's share of a second at the configured rate.
    interval: Duration,
    /// The fleet's budget and pause, which replace `limiter` when set.
    shared: Option<SharedRate>,
}

#[derive(Debug, Default)]
struct Backoff {
    /// Nobody sends before this instant.
    paused_until: Option<Instant>,
    /// Extra spacing between requests while recovering; zero when recovered.
    gap: Duration,
    /// When the last request was let through.
    last: Option<Instant>,
    /// 429s in a row, for the adaptive pause.
    strikes: u32,
    /// When the last 429 slowed the pace: 429s to requests sent before it belong to the same episode.
    last_throttle: Option<Instant>,
}

/// Why a caller was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paused {
    /// How long Jira still wants callers to wait.
    pub(crate) remaining: Duration,
}

impl Gate {
    pub(crate) fn new(quota: Quota) -> Self {
        let interval = quota.replenish_interval();
        Self {
            limiter: RateLimiter::direct(quota),
            queue: tokio::sync::Mutex::new(()),
            backoff: Mutex::new(Backoff::default()),
            interval,
            shared: None,
        }
    }

    /// The same gate drawing from the fleet's budget instead of its own limiter.
    pub(crate) fn shared(mut self, shared: SharedRate) -> Self {
        self.shared = Some(shared);
        self
    }

    fn state(&self) -> MutexGuard<'_, Backoff> {
        self.backoff.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for this caller's turn (in arrival order), the end of any pause and the
    /// rate limit, and returns when it was let through. Refuses at once if Jira's
    /// pause lasts beyond `deadline`.
    pub(crate) async fn admit(&self, deadline: Option<Instant>) -> Result<Instant, Paused> {
        let _turn = self.queue.lock().await;
        loop {
            self.wait_local(deadline).await?;
            let Some(shared) = &self.shared else {
                self.limiter.until_ready().await;
                break;
            };
            match shared.acquire().await {
                Admission::Go => break,
                // Another replica's 429: the same pause as our own, deadline included.
                Admission::Paused(remaining) => {
                    let until = Instant::now() + remaining;
                    let mut s = self.state();
                    s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
                }
            }
        }
        let now = Instant::now();
        self.state().last = Some(now);
        Ok(now)
    }

    /// Waits out this process's pause and gap; refuses if they last beyond `deadline`.
    async fn wait_local(&self, deadline: Option<Instant>) -> Result<(), Paused> {
        loop {
            let now = Instant::now();
            let ready = {
                let s = self.state();
                let after_gap = s.last.map(|l| l + s.gap);
                s.paused_until.into_iter().chain(after_gap).max()
            };
            match ready {
                Some(at) if at > now => {
                    if deadline.is_some_and(|d| at > d) {
                        return Err(Paused { remaining: at - now });
                    }
                    tokio::time::sleep_until(at).await;
                }
                _ => return Ok(()),
            }
        }
    }

    /// Tells the fleet about a 429's `pause` (see [`Self::throttled`]); nothing without one.
    pub(crate) async fn share_pause(&self, pause: Duration) {
        if let Some(shared) = &self.shared {
            shared.pause(pause).await;
        }
    }

    /// Jira answered 429 to a request let through at `sent`: pause everyone, then go
    /// slower. Requests sent before the previous 429 slowed the pace are answered
    /// under the old pace; their 429s extend the pause but do not slow it again.
    pub(crate) fn throttled(&self, retry_after: Option<Duration>, sent: Instant) -> Duration {
        let mut s = self.state();
        let now = Instant::now();
        let fresh = s.last_throttle.is_none_or(|t| sent >= t);
        if fresh {
            s.strikes = s.strikes.saturating_add(1);
            s.gap = s.gap.saturating_mul(2).max(self.interval.saturating_mul(2)).min(MAX_GAP);
            s.last_throttle = Some(now);
        }
        let adaptive = Duration::from_secs(1).saturating_mul(1 << s.strikes.saturating_sub(1).min(5)).min(MAX_PAUSE);
        // A broken `Retry-After: 4294967295` must not overflow an instant.
        let pause = retry_after.unwrap_or(adaptive).min(Duration::from_secs(24 * 3600));
        let until = now + pause;
        s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
        pause
    }

    /// Jira answered without a 429: recover a step towards the configured rate.
    pub(crate) fn answered(&self) {
        let mut s = self.state();
        s.strikes = 0;
        s.gap = s.gap.saturating_mul(15) / 16;
        if s.gap < self.interval {
            s.gap = Duration::ZERO;
        }
    }

    /// The current extra gap between requests (tests watch the recovery).
    #[cfg(test)]
    pub(crate) fn gap(&self) -> Duration {
        self.state().gap
    }
}

#[cfg(test)]
mod tests {
    use std::{num::NonZeroU32, sync::Arc};

    use super::*;

    fn gate(rate: u32) -> Arc<Gate> {
        let rate = NonZeroU32::new(rate).unwrap();
        Arc::new(Gate::new(Quota::per_second(rate).allow_burst(rate)))
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_caller_for_retry_after() {
        let g = gate(100);
        let sent = g.admit(None).await.unwrap();
        g.throttled(Some(Duration::from_secs(3)), sent);
        let started = Instant::now();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let g = g.clone();
                tokio::spawn(async move { g.admit(None).await })
            })
            .collect();
        for w in waiters {
            let at = w.await.unwrap().unwrap();
            assert!(at - started >= Duration::from_secs(3), "admitted after {:?}", at - started);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_retry_after_the_pause_grows_then_the_rate_recovers() {
        let g = gate(10);
        assert_eq!(g.throttled(None, Instant::now()), Duration::from_secs(1));
        assert_eq!(g.throttled(None, Instant::now()), Duration::from_secs(2));
        assert_eq!(g.throttled(None, Instant::now()), Duration::from_secs(4));
        let slow = g.gap();
        assert!(slow >= Duration::from_millis(800), "{slow:?}");
        g.answered();
        let step = g.gap();
        assert!(step < slow && step > Duration::ZERO, "recovers gradually, not at once: {slow:?} -> {step:?}");
        for _ in 0..60 {
            g.answered();
        }
        assert_eq!(g.gap(), Duration::ZERO, "back at the configured rate");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_beyond_the_deadline_is_refused_at_once() {
        let g = gate(10);
        g.throttled(Some(Duration::from_secs(60)), Instant::now());
        let refused = g.admit(Some(Instant::now() + Duration::from_secs(5))).await.unwrap_err();
        assert!(refused.remaining > Duration::from_secs(59), "{refused:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_429s_to_requests_sent_together_slows_the_pace_once() {
        let g = gate(10);
        let sent = Instant::now();
        tokio::time::advance(Duration::from_millis(10)).await;
        for _ in 0..5 {
            g.throttled(Some(Duration::from_secs(1)), sent);
        }
        assert_eq!(g.gap(), Duration::from_millis(200), "one episode: twice the configured interval, not 2^5");
        tokio::time::advance(Duration::from_millis(10)).await;
        g.throttled(Some(Duration::from_secs(1)), Instant::now());
        assert_eq!(g.gap(), Duration::from_millis(400), "a 429 to a request sent at the slower pace slows it again");
    }

    #[tokio::test]
    async fn waiting_callers_are_served_in_arrival_order() {
        let g = gate(10);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..20 {
            let (g, order) = (g.clone(), order.clone());
            handles.push(tokio::spawn(async move {
                g.admit(None).await.unwrap();
                order.lock().unwrap().push(i);
            }));
            // Arrive one after another.
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for h in handles {
            h.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order, (0..20).collect::<Vec<_>>(), "first come, first served");
    }
}
