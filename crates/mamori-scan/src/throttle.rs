//! Enforcement of [`Limits`]: every probe (connection attempt or datagram) goes through
//! [`Throttle::acquire`], which waits for a per-host and a global concurrency slot and for both
//! rate limiters, refuses hosts that are not in the plan, counts the probe, and gives up when the
//! scan is cancelled. Probe code cannot reach the network any other way.
//!
//! The rate limiters are GCRA (a token bucket expressed as a "theoretical arrival time"). With a
//! burst of 1 the probes to a host are evenly spaced, so no one-second window holds more than
//! `rate` of them; the spacing is kept 1 % wider than the configured rate so that scheduling jitter
//! at the target cannot push a window over.

use crate::policy::Limits;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Cancels a running scan. Clone it, hand one clone to the scanner, call [`CancelToken::cancel`]
/// from anywhere (a job runner, a signal handler).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: Notify,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }
    /// Resolves once [`CancelToken::cancel`] has been called.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Gcra {
    interval: Duration,
    tolerance: Duration,
}

impl Gcra {
    fn new(rate: f64, burst: u32) -> Self {
        // 1 % slack: the target must never see more than `rate` per second.
        let interval = Duration::from_secs_f64(1.0 / rate * 1.01);
        Self { interval, tolerance: interval * burst.saturating_sub(1) }
    }
    /// Earliest instant a probe may go, given the theoretical arrival time.
    fn earliest(&self, tat: Instant) -> Instant {
        tat.checked_sub(self.tolerance).unwrap_or(tat)
    }
    fn commit(&self, tat: Instant, now: Instant) -> Instant {
        tat.max(now) + self.interval
    }
}

struct HostSlot {
    tat: Instant,
    sent: u32,
    concurrency: Arc<Semaphore>,
}

struct State {
    global_tat: Instant,
    hosts: HashMap<IpAddr, HostSlot>,
}

/// Held while a probe's connection is open; dropping it frees the concurrency slots.
#[derive(Debug)]
pub struct ProbePermit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

/// Why a probe was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Cancelled,
    /// The host is not in the plan: a bug, but never a packet.
    NotInPlan,
    /// The per-host credential attempt cap is reached.
    CapReached,
}

pub struct Throttle {
    host_gcra: Gcra,
    global_gcra: Gcra,
    per_host_concurrency: usize,
    global: Arc<Semaphore>,
    state: Mutex<State>,
    cancel: CancelToken,
}

impl Throttle {
    /// Only the hosts in `allowed` can ever be probed.
    pub fn new(limits: &Limits, allowed: impl IntoIterator<Item = IpAddr>, cancel: CancelToken) -> Self {
        let now = Instant::now();
        let per_host_concurrency = limits.per_host_concurrency as usize;
        let hosts = allowed
            .into_iter()
            .map(|a| (a, HostSlot { tat: now, sent: 0, concurrency: Arc::new(Semaphore::new(per_host_concurrency)) }))
            .collect();
        Self {
            host_gcra: Gcra::new(limits.per_host_rate, limits.per_host_burst),
            global_gcra: Gcra::new(limits.global_rate, limits.global_burst),
            per_host_concurrency,
            global: Arc::new(Semaphore::new(limits.global_concurrency as usize)),
            state: Mutex::new(State { global_tat: now, hosts }),
            cancel,
        }
    }

    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }

    pub fn per_host_concurrency(&self) -> usize {
        self.per_host_concurrency
    }

    /// Wait until one more probe to `host` is allowed, then count it.
    pub async fn acquire(&self, host: IpAddr) -> Result<ProbePermit, Refused> {
        let sem = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.hosts.get(&host).map(|h| h.concurrency.clone()).ok_or(Refused::NotInPlan)?
        };
        let host_permit = tokio::select! {
            p = sem.acquire_owned() => p.map_err(|_| Refused::Cancelled)?,
            _ = self.cancel.cancelled() => return Err(Refused::Cancelled),
        };
        let global_permit = tokio::select! {
            p = self.global.clone().acquire_owned() => p.map_err(|_| Refused::Cancelled)?,
            _ = self.cancel.cancelled() => return Err(Refused::Cancelled),
        };
        loop {
            if self.cancel.is_cancelled() {
                return Err(Refused::Cancelled);
            }
            let wait_until = {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let global_at = self.global_gcra.earliest(st.global_tat);
                let slot = st.hosts.get(&host).ok_or(Refused::NotInPlan)?;
                let host_at = self.host_gcra.earliest(slot.tat);
                let at = global_at.max(host_at);
                if at <= now {
                    st.global_tat = self.global_gcra.commit(st.global_tat, now);
                    let slot = st.hosts.get_mut(&host).ok_or(Refused::NotInPlan)?;
                    slot.tat = self.host_gcra.commit(slot.tat, now);
                    slot.sent = slot.sent.saturating_add(1);
                    return Ok(ProbePermit { _host: host_permit, _global: global_permit });
                }
                at
            };
            tokio::select! {
                _ = tokio::time::sleep_until(wait_until) => {}
                _ = self.cancel.cancelled() => return Err(Refused::Cancelled),
            }
        }
    }

    /// Probes sent to `host` so far.
    pub fn sent(&self, host: IpAddr) -> u32 {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.hosts.get(&host).map_or(0, |h| h.sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Profile, ScanPolicy};

    #[tokio::test(start_paused = true)]
    async fn per_host_rate_is_a_hard_ceiling() {
        let limits = ScanPolicy::for_profile(Profile::MedicalSafe).limits;
        let h: IpAddr = "127.0.0.1".parse().unwrap();
        let t = Throttle::new(&limits, [h], CancelToken::new());
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..9 {
            let p = t.acquire(h).await.unwrap();
            times.push(Instant::now() - start);
            drop(p);
        }
        assert_eq!(t.sent(h), 9);
        for w in times.windows(3) {
            assert!(w[2] - w[0] >= Duration::from_secs(1), "{times:?}");
        }
        assert_eq!(t.acquire("127.0.0.2".parse().unwrap()).await.unwrap_err(), Refused::NotInPlan);
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_stops_waiting() {
        let mut limits = ScanPolicy::for_profile(Profile::MedicalSafe).limits;
        limits.per_host_rate = 0.01;
        let h: IpAddr = "127.0.0.1".parse().unwrap();
        let cancel = CancelToken::new();
        let t = Arc::new(Throttle::new(&limits, [h], cancel.clone()));
        drop(t.acquire(h).await.unwrap());
        let t2 = t.clone();
        let waiter = tokio::spawn(async move { t2.acquire(h).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
        assert_eq!(waiter.await.unwrap().unwrap_err(), Refused::Cancelled);
        assert_eq!(t.sent(h), 1);
    }
}
