//! One scan of one loopback host, report as JSON on stdout. Used by `bench/scan.sh` until
//! `mamori scan run` exists.
//!
//! ```sh
//! cargo build --release -p mamori-scan --example scan_once
//! target/release/examples/scan_once --profile standard --target 127.0.0.77 --ports 22,80,443,U:161
//! ```
//!
//! `--profile` takes the id or the Japanese name (`standard` = 標準). `--ports` (nmap syntax,
//! `U:` for UDP) replaces the profile's port list; every other setting (limits, discovery,
//! service detection, TLS legacy checks) stays as the profile has it. `--skip-discovery` is
//! nmap's `-Pn`. Only loopback targets are accepted: this is a benchmark helper, not a CLI.

use mamori_scan::{CancelToken, IpNet, Profile, ScanPolicy, ScanScope, Scanner, Segment, policy::parse_ports};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: scan_once [--profile ID] --target 127.x.y.z [--ports LIST] [--skip-discovery] [--compact]";

struct Args {
    profile: String,
    target: IpAddr,
    ports: Option<String>,
    skip_discovery: bool,
    compact: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut profile = "standard".to_owned();
    let mut target = None;
    let mut ports = None;
    let mut skip_discovery = false;
    let mut compact = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--profile" => profile = value("--profile")?,
            "--target" => {
                let t = value("--target")?;
                target = Some(t.parse::<IpAddr>().map_err(|e| format!("--target {t:?}: {e}"))?);
            }
            "--ports" => ports = Some(value("--ports")?),
            "--skip-discovery" => skip_discovery = true,
            "--compact" => compact = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let target = target.ok_or_else(|| format!("--target is required\n{USAGE}"))?;
    if !target.is_loopback() {
        return Err(format!("refusing {target}: scan_once only scans loopback addresses"));
    }
    Ok(Args { profile, target, ports, skip_discovery, compact })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("scan_once: {e}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scan_once: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut policy = ScanPolicy::for_profile(Profile::parse(&args.profile)?);
    if let Some(list) = &args.ports {
        policy.ports = parse_ports(list)?;
    }
    if args.skip_discovery {
        policy.skip_discovery = true;
    }
    // The segment is the target itself, so the plan cannot reach any other address.
    let target = IpNet::single(args.target);
    let scope = ScanScope { segments: vec![Segment::new("bench", &target.to_string())?], ..Default::default() };
    let started = Instant::now();
    let report = Scanner::new(policy)
        .scan(&[target], &scope, time::OffsetDateTime::now_utc(), &CancelToken::new(), None)
        .await?;
    let elapsed = started.elapsed();
    let json = if args.compact { serde_json::to_string(&report)? } else { serde_json::to_string_pretty(&report)? };
    println!("{json}");
    eprintln!(
        "scan_once: {} host(s), {} open port(s), {} probes, {:.3} s",
        report.hosts.len(),
        report.hosts.iter().map(|h| h.ports.len()).sum::<usize>(),
        report.probes_total(),
        elapsed.as_secs_f64()
    );
    Ok(())
}
