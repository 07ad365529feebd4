//! The scanner: runs a [`ScanPlan`] (discovery, TCP connect scan, UDP probes, service detection,
//! opt-in default credentials) under the policy's limits and returns a [`ScanReport`]. It never
//! contacts an address outside the plan: the [`Throttle`] refuses any other host.

use crate::ScanError;
use crate::model::{Host, Port, PortState, Proto, ScanReport};
use crate::policy::{HostPlan, PortSpec, ScanPlan, ScanPolicy, ScanScope};
use crate::probe::{self, Conn, ConnectFail, Ctx};
use crate::target::IpNet;
use crate::throttle::{CancelToken, Throttle};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::task::JoinSet;

/// Progress of a running scan: `done` of `total` units (one per host discovery and one per
/// port), for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// Called from the scan's tasks; keep it cheap (update an atomic, send on a channel).
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

struct Shared {
    throttle: Throttle,
    policy: ScanPolicy,
    progress: Option<ProgressFn>,
    done: AtomicU64,
    total: u64,
}

impl Shared {
    fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(p) = &self.progress {
            p(Progress { done, total: self.total });
        }
    }
}

/// Runs scans under one policy.
#[derive(Debug, Clone)]
pub struct Scanner {
    policy: ScanPolicy,
}

impl Scanner {
    pub fn new(policy: ScanPolicy) -> Self {
        Self { policy }
    }

    pub fn policy(&self) -> &ScanPolicy {
        &self.policy
    }

    /// Validate and expand targets; see [`ScanPolicy::plan`].
    pub fn plan(&self, targets: &[IpNet], scope: &ScanScope, now: OffsetDateTime) -> Result<ScanPlan, ScanError> {
        self.policy.plan(targets, scope, now)
    }

    /// Plan and run. `now` is the institution's local time, for the time-window check.
    pub async fn scan(
        &self,
        targets: &[IpNet],
        scope: &ScanScope,
        now: OffsetDateTime,
        cancel: &CancelToken,
        progress: Option<ProgressFn>,
    ) -> Result<ScanReport, ScanError> {
        let plan = self.plan(targets, scope, now)?;
        self.run(&plan, cancel, progress).await
    }

    /// Run a plan made by [`Scanner::plan`]. Cancelling returns what was found so far with
    /// `cancelled: true`.
    pub async fn run(
        &self,
        plan: &ScanPlan,
        cancel: &CancelToken,
        progress: Option<ProgressFn>,
    ) -> Result<ScanReport, ScanError> {
        if cancel.is_cancelled() {
            return Err(ScanError::Cancelled);
        }
        let started_at = OffsetDateTime::now_utc();
        let total = plan.hosts.iter().map(|h| 1 + h.ports.len() as u64).sum();
        let shared = Arc::new(Shared {
            throttle: Throttle::new(&self.policy.limits, plan.hosts.iter().map(|h| h.addr), cancel.clone()),
            policy: self.policy.clone(),
            progress,
            done: AtomicU64::new(0),
            total,
        });
        let discovery_ports = Arc::new(plan.discovery_ports.clone());
        // Hosts in flight at once: enough to keep the global concurrency busy.
        let host_slots = Arc::new(tokio::sync::Semaphore::new(
            (self.policy.limits.global_concurrency as usize / self.policy.limits.per_host_concurrency as usize)
                .clamp(1, 256),
        ));
        let mut set = JoinSet::new();
        for hp in plan.hosts.iter().cloned() {
            let shared = shared.clone();
            let dp = discovery_ports.clone();
            let slots = host_slots.clone();
            set.spawn(async move {
                let _slot = slots.acquire_owned().await;
                scan_host(shared, hp, dp).await
            });
        }
        let mut hosts = Vec::new();
        let mut attempts = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok((host, a)) = r {
                hosts.push(host);
                attempts.extend(a);
            }
        }
        let neighbours = crate::neighbours::read_neighbours();
        for h in &mut hosts {
            h.probes_sent = shared.throttle.sent(h.addr);
            h.mac = neighbours.get(&h.addr).cloned();
            if !h.up && h.mac.is_some() {
                h.up = true;
                h.up_reason = Some("arp".into());
            }
        }
        hosts.sort_by_key(|h| h.addr);
        Ok(ScanReport {
            profile: self.policy.profile.id().to_owned(),
            started_at,
            finished_at: OffsetDateTime::now_utc(),
            cancelled: cancel.is_cancelled(),
            hosts,
            credential_attempts: attempts,
            skipped: plan.skipped.clone(),
        })
    }
}

async fn scan_host(
    shared: Arc<Shared>,
    hp: HostPlan,
    discovery_ports: Arc<Vec<u16>>,
) -> (Host, Vec<crate::model::CredentialAttempt>) {
    let mut host = Host::new(hp.addr);
    host.discovery_only = hp.discovery_only;
    let attempts = Arc::new(Mutex::new(probe::HostAttempts::default()));
    let ctx = Ctx::new(&shared.throttle, hp.addr, &shared.policy, attempts.clone());
    let mut known: Vec<(u16, PortState, u64)> = Vec::new();
    if shared.policy.skip_discovery {
        host.up = true;
        host.up_reason = Some("user-set".into());
    } else {
        for &p in discovery_ports.iter() {
            match ctx.connect_raw(p).await {
                Ok((s, permit, rtt)) => {
                    drop(s);
                    drop(permit);
                    host.up = true;
                    host.up_reason = Some(format!("conn-accepted:{p}"));
                    known.push((p, PortState::Open, rtt.as_micros() as u64));
                    break;
                }
                Err(ConnectFail::Refused) => {
                    host.up = true;
                    host.up_reason = Some(format!("conn-refused:{p}"));
                    known.push((p, PortState::Closed, 0));
                    break;
                }
                Err(ConnectFail::Unreachable) | Err(ConnectFail::Cancelled) | Err(ConnectFail::NotAllowed) => break,
                Err(_) => {}
            }
        }
    }
    shared.advance(1);
    if !host.up || hp.discovery_only {
        if hp.discovery_only {
            for (p, state, rtt) in known {
                if state == PortState::Open {
                    host.ports.push(Port { port: p, proto: Proto::Tcp, state, service: None, rtt_us: Some(rtt) });
                }
            }
        }
        shared.advance(hp.ports.len() as u64);
        return (host, ctx.take_attempts());
    }
    drop(ctx);
    let ports = Arc::new(hp.ports.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let results: Arc<Mutex<Vec<PortResult>>> = Arc::new(Mutex::new(Vec::new()));
    let workers = shared.throttle.per_host_concurrency().min(ports.len()).max(1);
    let mut set = JoinSet::new();
    for _ in 0..workers {
        let (shared, ports, next, results, attempts) =
            (shared.clone(), ports.clone(), next.clone(), results.clone(), attempts.clone());
        let addr = hp.addr;
        set.spawn(async move {
            let ctx = Ctx::new(&shared.throttle, addr, &shared.policy, attempts);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&spec) = ports.get(i) else { break };
                if shared.throttle.cancel_token().is_cancelled() {
                    break;
                }
                let r = scan_port(&ctx, spec).await;
                results.lock().unwrap_or_else(|e| e.into_inner()).push((spec, r.0, r.1, r.2));
                shared.advance(1);
            }
        });
    }
    while set.join_next().await.is_some() {}
    let results = std::mem::take(&mut *results.lock().unwrap_or_else(|e| e.into_inner()));
    for (spec, state, service, rtt) in results {
        match state {
            PortState::Open | PortState::OpenFiltered => {
                host.ports.push(Port { port: spec.port, proto: spec.proto, state, service, rtt_us: rtt })
            }
            PortState::Closed => host.closed_ports += 1,
            PortState::Filtered => host.filtered_ports += 1,
        }
    }
    host.ports.sort_by_key(|p| (p.proto, p.port));
    attribute_orthanc_dicom(&mut host);
    let ctx = Ctx::new(&shared.throttle, hp.addr, &shared.policy, attempts);
    let a = ctx.take_attempts();
    (host, a)
}

/// A scanned port: spec, state, service, rtt (µs).
type PortResult = (PortSpec, PortState, Option<crate::model::Service>, Option<u64>);

async fn scan_port(ctx: &Ctx<'_>, spec: PortSpec) -> (PortState, Option<crate::model::Service>, Option<u64>) {
    match spec.proto {
        Proto::Tcp => match ctx.connect_raw(spec.port).await {
            Ok((stream, permit, rtt)) => {
                let rtt_us = Some(rtt.as_micros() as u64);
                if !ctx.policy.service_detection {
                    drop(stream);
                    return (PortState::Open, None, rtt_us);
                }
                let _ = stream.set_nodelay(true);
                let conn = Conn::new(Box::new(stream), permit, rtt, ctx.limits().read_timeout());
                (PortState::Open, probe::detect_tcp(ctx, spec.port, Some(conn)).await, rtt_us)
            }
            Err(ConnectFail::Refused) => (PortState::Closed, None, None),
            Err(_) => (PortState::Filtered, None, None),
        },
        // SNMP is the only UDP protocol we probe (a silent UDP port says nothing by itself).
        Proto::Udp => match probe::snmp::probe(ctx, spec.port).await {
            Ok(Some((s, rtt))) => (PortState::Open, Some(s), Some(rtt.as_micros() as u64)),
            Ok(None) => (PortState::OpenFiltered, None, None),
            Err(ConnectFail::Refused) => (PortState::Closed, None, None),
            Err(_) => (PortState::OpenFiltered, None, None),
        },
    }
}

/// Orthanc speaks DICOM through the DCMTK library, so its DICOM port identifies as DCMTK. When the
/// same host's Orthanc REST API names that port as its `DicomPort`, name the application.
fn attribute_orthanc_dicom(host: &mut Host) {
    let orthanc: Vec<(u16, Option<String>)> = host
        .ports
        .iter()
        .filter_map(|p| match p.service.as_ref()?.detail.as_ref()? {
            crate::model::ServiceDetail::Http(h) => {
                h.orthanc.as_ref().and_then(|o| Some((o.dicom_port?, o.version.clone())))
            }
            _ => None,
        })
        .collect();
    for (port, version) in orthanc {
        if let Some(s) =
            host.ports.iter_mut().find(|p| p.port == port && p.proto == Proto::Tcp).and_then(|p| p.service.as_mut())
            && s.name == "dicom"
        {
            let stack = [s.product.clone(), s.version.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            if !stack.is_empty() {
                s.extra.insert("dicom_stack".into(), stack);
            }
            s.product = Some("Orthanc".into());
            s.cpe = Some(crate::cpe::app("orthanc-server", "orthanc", version.as_deref()));
            s.version = version;
        }
    }
}
