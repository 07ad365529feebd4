//! The 医療機器セーフ profile at the target: a listener on 127.0.0.50 timestamps every connection
//! attempt it receives; no one-second window may hold more than the profile's per-host limit, and
//! the listener must see exactly the probes the report counts. Also cancellation and progress.

use crate::support::*;
use mamori_scan::{CancelToken, IpNet, PortSpec, Profile, Progress, ScanPolicy, Scanner};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Binds `n` listeners on `ip`; each accepted connection is timestamped and closed at once.
async fn listeners(ip: std::net::IpAddr, n: usize, seen: Arc<Mutex<Vec<Instant>>>) -> Vec<u16> {
    let mut ports = Vec::new();
    for _ in 0..n {
        let l = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        ports.push(l.local_addr().unwrap().port());
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                seen.lock().unwrap().push(Instant::now());
                drop(s);
            }
        });
    }
    ports
}

fn max_in_window(times: &[Instant], w: Duration) -> usize {
    let mut t = times.to_vec();
    t.sort();
    (0..t.len()).map(|i| t[i..].iter().take_while(|x| **x - t[i] < w).count()).max().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn medical_safe_never_exceeds_its_rate() {
    let ip = ip("127.0.0.50");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let ports = listeners(ip, 3, seen.clone()).await;
    let mut policy = ScanPolicy::for_profile(Profile::MedicalSafe);
    policy.ports = ports.iter().map(|&p| PortSpec::tcp(p)).collect();
    policy.discovery_ports = vec![ports[0]];
    let limit = policy.limits.per_host_rate;
    let last = Arc::new(AtomicU64::new(0));
    let l2 = last.clone();
    let progress: mamori_scan::ProgressFn = Arc::new(move |p: Progress| {
        assert!(p.done <= p.total);
        l2.store(p.done * 1000 + p.total, Ordering::SeqCst);
    });
    let started = Instant::now();
    let r = Scanner::new(policy)
        .scan(&[IpNet::single(ip)], &lab_scope(), time::OffsetDateTime::now_utc(), &CancelToken::new(), Some(progress))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let times = seen.lock().unwrap().clone();
    let max = max_in_window(&times, Duration::from_secs(1));
    let mut sorted = times.clone();
    sorted.sort();
    let min_gap = sorted.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    println!(
        "medical-safe: {} connection attempts at the target in {:.1} s; max {} in any 1 s window (limit {limit}/s); \
         min gap {:.0} ms; mean {:.2}/s",
        times.len(),
        elapsed.as_secs_f64(),
        max,
        min_gap.as_secs_f64() * 1000.0,
        (times.len() - 1) as f64 / (*sorted.last().unwrap() - sorted[0]).as_secs_f64()
    );
    assert!(times.len() >= 10, "enough probes to measure: {}", times.len());
    assert!(max as f64 <= limit, "{max} connections within one second, limit {limit}");
    assert!(min_gap >= Duration::from_millis(495), "min gap {min_gap:?}");
    assert_eq!(r.hosts[0].probes_sent as usize, times.len(), "every probe is counted, and only those");
    assert_eq!(last.load(Ordering::SeqCst), 4 * 1000 + 4, "progress reaches done == total");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_scan() {
    let ip = ip("127.0.0.51");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let ports = listeners(ip, 4, seen.clone()).await;
    let mut policy = ScanPolicy::for_profile(Profile::MedicalSafe);
    policy.ports = ports.iter().map(|&p| PortSpec::tcp(p)).collect();
    policy.discovery_ports = vec![ports[0]];
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1600)).await;
        c2.cancel();
    });
    let started = Instant::now();
    let r = Scanner::new(policy)
        .scan(&[IpNet::single(ip)], &lab_scope(), time::OffsetDateTime::now_utc(), &cancel, None)
        .await
        .unwrap();
    assert!(r.cancelled);
    assert!(started.elapsed() < Duration::from_secs(4), "stopped promptly: {:?}", started.elapsed());
    let n = seen.lock().unwrap().len();
    assert!((1..=5).contains(&n), "{n} probes before the cancel");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(seen.lock().unwrap().len(), n, "nothing sent after cancel");
}

#[tokio::test]
async fn targets_outside_the_segments_are_refused_before_any_packet() {
    let scope = mamori_scan::ScanScope {
        segments: vec![mamori_scan::Segment::new("lab", "127.0.0.0/24").unwrap()],
        ..Default::default()
    };
    let e = Scanner::new(ScanPolicy::for_profile(Profile::Standard))
        .scan(&["127.0.1.1".parse().unwrap()], &scope, time::OffsetDateTime::now_utc(), &CancelToken::new(), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "target-outside-segments");
}
