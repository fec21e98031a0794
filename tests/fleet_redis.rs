//! A fleet's shared state against a real Redis (Debian's redis-server, started by the test
//! on a free loopback port): one rate budget and 429 pause for every replica, the local
//! fallback while Redis is gone and the return to shared mode, confirm tokens any replica
//! verifies but only one redeems, and fleet-wide sandbox slots with leases.
//!
//! Each "replica" is its own `JiraMcp` (or `Fleet`) with its own Redis connection, in one
//! test process; the nginx fleet test runs real processes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::print_stdout)]
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "common's helpers use reqwest and spawn processes"
)]

mod common;
mod redis_server;

use std::{
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use common::{call, config_for, connect, emulator, text};
use jira_mcp::{
    Config, JiraMcp,
    confirm::{ConfirmStore, Refusal},
    emulator::Fault,
    fleet::{Admission, Fleet, FleetSlots, SharedRate},
};
use redis_server::RedisServer;
use secrecy::SecretString;
use serde_json::json;

const KEY: &str = "0123456789abcdef0123456789abcdef-test-key";

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn fleet(redis: &RedisServer) -> Fleet {
    Fleet::new(&SecretString::from(redis.url())).unwrap()
}

/// A replica's configuration: the fleet budget `rate`/`burst`, with Redis when given.
fn replica_config(emu_config: &Config, redis: Option<&RedisServer>, rate: u32, burst: u32) -> Config {
    let mut config = emu_config.clone();
    config.jira.rate_per_second = nz(rate);
    config.jira.burst = nz(burst);
    config.fleet.redis_url = redis.map(|r| SecretString::from(r.url()));
    config.fleet.confirm_key = Some(SecretString::from(KEY));
    config
}

/// The most instants within any one-second window.
fn peak_per_second(times: &[Instant]) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut start = 0;
    let mut peak = 0;
    for (end, t) in times.iter().enumerate() {
        while t.duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        peak = peak.max(end + 1 - start);
    }
    peak
}

/// 40 get_issue calls, 20 through each of two replicas at once, fleet budget 20/s + burst 10;
/// the emulator's busiest second.
async fn busiest_second_of_two_replicas(redis: Option<&RedisServer>) -> usize {
    let emu = emulator().await;
    let config = replica_config(&config_for(&emu), redis, 20, 10);
    let a = connect(JiraMcp::new(&config).unwrap()).await;
    let b = connect(JiraMcp::new(&config).unwrap()).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut calls = Vec::new();
    for i in 0..40 {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        calls.push(tokio::spawn(async move {
            let (is_error, out) = text(&call(&client, "get_issue", json!({ "key": "DEMO-1" })).await);
            assert!(!is_error, "{out}");
        }));
    }
    for c in calls {
        c.await.unwrap();
    }
    emu.peak_requests_per_second()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_rate_budget_through_redis() {
    let redis = RedisServer::start();
    let shared = busiest_second_of_two_replicas(Some(&redis)).await;
    let alone = busiest_second_of_two_replicas(None).await;
    println!("busiest second at the emulator, fleet budget 20/s + burst 10: with Redis {shared}, without {alone}");
    // Admissions are on Redis's clock, arrivals on the emulator's: a request admitted just after a window's
    // second may arrive inside it, so one arrival of jitter is allowed (the control is twice the budget).
    assert!(shared <= 31, "two replicas sharing Redis sent {shared} requests in one second; the budget is 20 + 10");
    assert!(alone > 30, "control: without Redis each replica has its own budget, together about twice: {alone}");
}

/// Replica A's get_issue is answered 429 with `Retry-After: 2`; while A waits it out, replica B
/// calls. Returns how long B's call took, and how long a call on B took once A was done.
async fn second_replica_during_and_after_a_429(redis: Option<&RedisServer>) -> (Duration, Duration) {
    let emu = emulator().await;
    let config = replica_config(&config_for(&emu), redis, 100, 100);
    let a = Arc::new(connect(JiraMcp::new(&config).unwrap()).await);
    let b = connect(JiraMcp::new(&config).unwrap()).await;
    emu.inject(Fault { path_contains: "/issue/DEMO-1".into(), status: 429, times: 1, retry_after: Some(2) });
    let a_call = tokio::spawn({
        let a = a.clone();
        async move { text(&call(&a, "get_issue", json!({ "key": "DEMO-1" })).await) }
    });
    // Let A's first request be answered 429.
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.request_count() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (is_error, out) = text(&call(&b, "get_issue", json!({ "key": "DEMO-2" })).await);
    assert!(!is_error, "{out}");
    let during = started.elapsed();
    let (is_error, out) = a_call.await.unwrap();
    assert!(!is_error, "replica A retries after Retry-After: {out}");
    let started = Instant::now();
    let (is_error, out) = text(&call(&b, "get_issue", json!({ "key": "DEMO-3" })).await);
    assert!(!is_error, "{out}");
    (during, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_one_replica_pauses_the_other() {
    let redis = RedisServer::start();
    let (shared, after) = second_replica_during_and_after_a_429(Some(&redis)).await;
    let (alone, _) = second_replica_during_and_after_a_429(None).await;
    println!("replica B's call while A is paused by a 429 (Retry-After 2 s): with Redis {shared:?}, without {alone:?}");
    assert!(shared >= Duration::from_millis(1500), "B did not honour A's pause: {shared:?}");
    assert!(alone < Duration::from_millis(1000), "control: without Redis B does not know: {alone:?}");
    assert!(after < Duration::from_millis(1000), "the pause ends for everyone: {after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lost_means_the_local_fallback_with_one_warning_then_shared_again() {
    let mut redis = RedisServer::start();
    let f = fleet(&redis);
    // Fleet budget 20/s + 20; with 4 replicas the fallback is 5/s + 5.
    let rate = SharedRate::new(f.clone(), "https://site.example", "basic:me@example.com", nz(20), nz(20), nz(4));
    for _ in 0..20 {
        assert_eq!(rate.acquire().await, Admission::Go);
    }
    assert!(f.is_shared());
    redis.stop();
    let started = Instant::now();
    let mut times = Vec::new();
    for _ in 0..20 {
        assert_eq!(rate.acquire().await, Admission::Go, "a call never fails because of Redis");
        times.push(Instant::now());
    }
    let took = started.elapsed();
    println!("20 admissions with Redis down took {took:?}, busiest second {}", peak_per_second(&times));
    assert!(!f.is_shared());
    assert_eq!(f.fallbacks(), 1, "one warning per outage, not one per request");
    assert!(peak_per_second(&times) <= 10, "fallback 5/s + burst 5: {}", peak_per_second(&times));
    assert!(took >= Duration::from_secs(2), "at the fallback rate, 20 take about 3 s: {took:?}");

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f.is_shared() {
        assert!(Instant::now() < deadline, "shared mode did not resume within 10 s of Redis's return");
        rate.acquire().await;
    }
    assert_eq!(f.fallbacks(), 1, "the recovery is no new fallback");
    // Shared again: the fleet's budget (burst 20) is back, not the fallback's 5.
    let started = Instant::now();
    for _ in 0..15 {
        rate.acquire().await;
    }
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_does_not_stall_calls() {
    let redis = RedisServer::start();
    let f = fleet(&redis);
    let rate = SharedRate::new(f.clone(), "https://site.example", "basic:me@example.com", nz(50), nz(50), nz(1));
    assert_eq!(rate.acquire().await, Admission::Go);
    let pid = nix::unistd::Pid::from_raw(i32::try_from(redis.pid().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let started = Instant::now();
    assert_eq!(rate.acquire().await, Admission::Go);
    let took = started.elapsed();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    println!("first call with Redis stopped (SIGSTOP) took {took:?}");
    assert!(took < Duration::from_millis(600), "{took:?}");
    assert_eq!(f.fallbacks(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_tokens_are_verified_anywhere_but_redeemed_once_in_the_fleet() {
    let redis = RedisServer::start();
    let key = SecretString::from(KEY);
    let stores: Vec<ConfirmStore> = (0..3).map(|_| ConfirmStore::new(Some(&key), Some(fleet(&redis)))).collect();
    let now = SystemTime::now();
    let token = stores[0].issue("DEMO-1", "2024-05-01T10:00:00.000+0000", 0, now);
    assert_eq!(stores[1].redeem(&token, "DEMO-2", now).await, Err(Refusal::OtherIssue("DEMO-1".into())));
    let pending = stores[1].redeem(&token, "DEMO-1", now).await.expect("another replica verifies it");
    assert_eq!(pending.updated, "2024-05-01T10:00:00.000+0000");
    assert_eq!(stores[2].redeem(&token, "DEMO-1", now).await, Err(Refusal::Unknown), "a third replica");
    assert_eq!(stores[0].redeem(&token, "DEMO-1", now).await, Err(Refusal::Unknown), "the issuer");

    // Control: without Redis each process knows only its own redemptions, so two accept the
    // same token; what stops a replayed delete there is the `updated` binding.
    let alone: Vec<ConfirmStore> = (0..2).map(|_| ConfirmStore::new(Some(&key), None)).collect();
    let token = alone[0].issue("DEMO-1", "u1", 0, now);
    assert!(alone[0].redeem(&token, "DEMO-1", now).await.is_ok());
    assert!(alone[1].redeem(&token, "DEMO-1", now).await.is_ok(), "the in-process set alone cannot see the other");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_waits_for_redis_rather_than_risk_a_second_use() {
    let mut redis = RedisServer::start();
    let key = SecretString::from(KEY);
    let store = ConfirmStore::new(Some(&key), Some(fleet(&redis)));
    let now = SystemTime::now();
    let token = store.issue("DEMO-1", "u1", 0, now);
    redis.stop();
    assert_eq!(store.redeem(&token, "DEMO-1", now).await, Err(Refusal::Unavailable));
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.redeem(&token, "DEMO-1", now).await {
            Ok(_) => break,
            Err(Refusal::Unavailable) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            other => panic!("the token stays usable once Redis is back: {other:?}"),
        }
    }
}

/// Previews `key`'s delete on `preview` and confirms it on `confirm` with the preview's token.
async fn preview_then_confirm(preview: &common::Client, confirm: &common::Client, key: &str) -> (bool, String) {
    let (_, shown) = text(&call(preview, "delete_issue", json!({ "key": key })).await);
    let token = shown.split("confirm_token=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    text(&call(confirm, "delete_issue", json!({ "key": key, "confirm": true, "confirm_token": token })).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_previewed_on_one_replica_is_confirmed_on_another() {
    let redis = RedisServer::start();
    let emu = emulator().await;
    let config = replica_config(&config_for(&emu), Some(&redis), 100, 100);
    let a = connect(JiraMcp::new(&config).unwrap()).await;
    let b = connect(JiraMcp::new(&config).unwrap()).await;
    let (is_error, out) = preview_then_confirm(&a, &b, "DEMO-3").await;
    assert!(!is_error, "{out}");
    assert!(out.starts_with("Deleted DEMO-3"), "{out}");
    assert!(!emu.has_issue("DEMO-3"));

    // Without the shared key, another replica cannot verify the token.
    let mut keyless = config.clone();
    keyless.fleet.confirm_key = None;
    let c = connect(JiraMcp::new(&keyless).unwrap()).await;
    let d = connect(JiraMcp::new(&keyless).unwrap()).await;
    let (is_error, out) = preview_then_confirm(&c, &d, "DEMO-4").await;
    assert!(is_error && out.contains("confirm_token is not valid"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_slots_never_exceed_the_bound_across_replicas() {
    let redis = RedisServer::start();
    let replicas = [fleet(&redis), fleet(&redis)];
    let holding = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut runs = Vec::new();
    for i in 0..12 {
        let slots = FleetSlots::new(replicas[i % 2].clone(), "docker", 3, Duration::from_secs(5));
        let (holding, peak) = (holding.clone(), peak.clone());
        runs.push(tokio::spawn(async move {
            for _ in 0..4 {
                let lease = loop {
                    if let Some(lease) = slots.try_acquire().await.unwrap() {
                        break lease;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                };
                let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                holding.fetch_sub(1, Ordering::SeqCst);
                drop(lease);
            }
        }));
    }
    for r in runs {
        r.await.unwrap();
    }
    let peak = peak.load(Ordering::SeqCst);
    println!("12 runs on two replicas, 4 each, fleet bound 3: peak holders {peak}");
    assert_eq!(peak, 3, "at most the fleet bound, and the bound was used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_is_kept_while_renewed_and_lost_when_not() {
    let redis = RedisServer::start();
    let a = FleetSlots::new(fleet(&redis), "e2b", 1, Duration::from_millis(900));
    let b = FleetSlots::new(fleet(&redis), "e2b", 1, Duration::from_millis(900));
    let lease = a.try_acquire().await.unwrap().expect("a free slot");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(b.try_acquire().await.unwrap().is_none(), "renewed past its 900 ms lease, the slot is still held");
    drop(lease);
    let deadline = Instant::now() + Duration::from_secs(2);
    while b.held().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "a dropped lease is released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A replica that dies stops renewing: its lease ends within the lease time.
    assert!(a.claim("dead-replica").await.unwrap());
    assert!(b.try_acquire().await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(b.try_acquire().await.unwrap().is_some(), "the dead holder's lease expired");
}
