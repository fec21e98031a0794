//! One rate budget per Jira site and account for the whole fleet: GCRA in one Lua script,
//! on Redis's clock, with the shared 429 pause; a local governor limiter at the fleet rate
//! divided by the replicas while Redis is unreachable.
//!
//! GCRA keeps one number per budget, the theoretical arrival time (TAT): a request at `now`
//! may go when `max(TAT, now) + interval - burst * interval <= now`, and then moves TAT on by
//! one interval. That admits `burst` requests at once and `rate` per second after, exactly
//! like the governor quota a single process uses (`Quota::per_second(rate).allow_burst(burst)`).

use std::{num::NonZeroU32, time::Duration};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::conn::{Fleet, hashed_key};

/// `KEYS[1]` TAT (µs, Redis clock), `KEYS[2]` paused-until (µs); `ARGV[1]` interval µs, `ARGV[2]` burst.
/// Returns {0, 0} admitted, {1, µs} wait for the rate, {2, µs} paused after a 429.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {2, paused - now} end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now then return {1, allow_at - now} end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1000)
return {0, 0}
";

/// `KEYS[1]` paused-until (µs); `ARGV[1]` the pause in µs. Keeps the later of the two ends.
const PAUSE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + pause > cur then
  redis.call('SET', KEYS[1], string.format('%.0f', now + pause), 'PX', math.floor(pause / 1000) + 1)
end
return 0
";

/// What a caller may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send the request (drawn from the shared budget, or from the local fallback).
    Go,
    /// Another replica (or this one) was answered 429: nobody sends for this long.
    Paused(Duration),
}

/// The fleet's budget for one Jira site and account.
pub struct SharedRate {
    fleet: Fleet,
    tat_key: String,
    pause_key: String,
    interval_us: u64,
    burst: u32,
    admit: redis::Script,
    pause: redis::Script,
    /// The conservative local limit while Redis is unreachable.
    fallback: DefaultDirectRateLimiter,
}

impl std::fmt::Debug for SharedRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRate").field("interval_us", &self.interval_us).field("burst", &self.burst).finish()
    }
}

impl SharedRate {
    /// The budget of `rate` per second with `burst` for the site `site` and the account
    /// `account` (an identity, never a secret); both are hashed into the key. While Redis is
    /// unreachable this process allows `rate / replicas` per second (at least 1).
    #[must_use]
    pub fn new(
        fleet: Fleet,
        site: &str,
        account: &str,
        rate: NonZeroU32,
        burst: NonZeroU32,
        replicas: NonZeroU32,
    ) -> Self {
        let budget = hashed_key("rate", &[site, account]);
        let share = |n: NonZeroU32| NonZeroU32::new(n.get() / replicas.get()).unwrap_or(NonZeroU32::MIN);
        Self {
            fleet,
            tat_key: format!("{budget}:tat"),
            pause_key: format!("{budget}:paused"),
            interval_us: 1_000_000 / u64::from(rate.get()),
            burst: burst.get(),
            admit: redis::Script::new(ADMIT),
            pause: redis::Script::new(PAUSE),
            fallback: RateLimiter::direct(Quota::per_second(share(rate)).allow_burst(share(burst))),
        }
    }

    /// Waits until the fleet's budget lets one request through, or reports the shared pause.
    /// Redis unreachable: waits at the local fallback limiter instead.
    pub async fn acquire(&self) -> Admission {
        loop {
            let verdict = self
                .fleet
                .run("rate", |mut conn| async move {
                    let mut call = self.admit.key(&self.tat_key);
                    call.key(&self.pause_key).arg(self.interval_us).arg(self.burst);
                    call.invoke_async::<(u8, u64)>(&mut conn).await
                })
                .await;
            match verdict {
                Ok((0, _)) => return Admission::Go,
                Ok((2, us)) => return Admission::Paused(Duration::from_micros(us)),
                Ok((_, us)) => tokio::time::sleep(Duration::from_micros(us.max(1))).await,
                Err(_) => {
                    self.fallback.until_ready().await;
                    return Admission::Go;
                }
            }
        }
    }

    /// Shares a 429's pause: no replica sends to this site and account for `pause`
    /// (the later end wins). Best effort: with Redis unreachable only this process pauses.
    pub async fn pause(&self, pause: Duration) {
        let us = u64::try_from(pause.as_micros()).unwrap_or(u64::MAX).max(1);
        let _ = self
            .fleet
            .run("pause", |mut conn| async move {
                self.pause.key(&self.pause_key).arg(us).invoke_async::<i64>(&mut conn).await
            })
            .await;
    }
}
