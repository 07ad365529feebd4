//! Network scans as the web UI and the CLI run them: the targets and the safety scope come from
//! the ledgers (segments give the allowed CIDRs, assets the known devices and the fragile ones),
//! the scan runs as a cancellable job, the report is kept as evidence (kind `scan`), and what
//! it found becomes findings in plain Japanese, linked to the asset and to the scan. A problem
//! seen again is added to its open finding (`Store::observe_finding`), not duplicated.

use mamori_domain::evidence::Evidence;
use mamori_domain::finding::{Finding, ObjectRef};
use mamori_domain::job::Job;
use mamori_domain::record::{RecordKind, Row, Value};
use mamori_domain::{EvidenceId, RecordId};
use mamori_i18n::{Arg, Lang};
use mamori_jobs::{JobError, JobHandle, JobRunner};
use mamori_scan::{
    CancelToken, FindingInput, IpNet, KnownDevices, Profile, ScanFinding, ScanPolicy, ScanReport, ScanScope, Scanner,
    Segment, SegmentRule, SegmentRules,
};
use mamori_store::{RecordQuery, Scope, Store, StoreError};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Evidence kind of a stored scan report.
pub const SCAN_EVIDENCE: &str = "scan";

#[derive(Debug, thiserror::Error)]
pub enum ScanIoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scan(#[from] mamori_scan::ScanError),
    #[error("no segment named {0:?} in the network ledger")]
    UnknownSegment(String),
    #[error("the network ledger has no segments: register the institution's networks first")]
    NoSegments,
    #[error("give a segment or a target")]
    NoTarget,
    #[error("{0:?} is not an IP address or network")]
    BadTarget(String),
    #[error("no scan {0}")]
    NoScan(String),
    #[error("{0:?} is not a time window like 19:00-07:00")]
    BadWindow(String),
    #[error("{0} is not a private network; only an institution's own (private) networks are scanned")]
    PublicRange(String),
}

impl ScanIoError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(e) => e.code(),
            Self::Scan(e) => e.code(),
            Self::UnknownSegment(_) => "scan-unknown-segment",
            Self::NoSegments => "scan-no-segments",
            Self::NoTarget => "scan-no-target",
            Self::BadTarget(_) => "scan-bad-target",
            Self::NoScan(_) => "scan-not-found",
            Self::BadWindow(_) => "scan-bad-window",
            Self::PublicRange(_) => "scan-public-range",
        }
    }
}

/// The error in the user's language.
pub fn error_text(lang: Lang, e: &ScanIoError) -> String {
    let key = format!("scan-error-{}", e.code().trim_start_matches("scan-"));
    let arg = match e {
        ScanIoError::UnknownSegment(s)
        | ScanIoError::BadTarget(s)
        | ScanIoError::NoScan(s)
        | ScanIoError::BadWindow(s)
        | ScanIoError::PublicRange(s) => s.clone(),
        other => other.to_string(),
    };
    lang.try_ta(&key, &[("value", Arg::from(arg.as_str()))]).unwrap_or_else(|| e.to_string())
}

/// Institution setting holding the scan rules.
pub const RULES_KEY: &str = "scan-rules";

/// When scans may run and what they must never touch, per institution.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanRules {
    /// `HH:MM-HH:MM` in Japan time (e.g. `19:00-07:00`, outside clinic hours); none: any time.
    #[serde(default)]
    pub window: Option<String>,
    /// Hosts or networks never scanned (e.g. a ventilator's address).
    #[serde(default)]
    pub exclusions: Vec<String>,
}

impl ScanRules {
    fn window(&self) -> Result<Option<mamori_scan::TimeWindow>, ScanIoError> {
        let Some(w) = self.window.as_deref().map(str::trim).filter(|w| !w.is_empty()) else { return Ok(None) };
        let (start, end) = w.split_once('-').ok_or_else(|| ScanIoError::BadWindow(w.to_owned()))?;
        mamori_scan::TimeWindow::daily(start.trim(), end.trim())
            .map(Some)
            .map_err(|_| ScanIoError::BadWindow(w.to_owned()))
    }

    fn exclusions(&self) -> Result<Vec<IpNet>, ScanIoError> {
        self.exclusions.iter().map(|t| parse_net(t)).collect()
    }
}

fn parse_net(t: &str) -> Result<IpNet, ScanIoError> {
    let t = t.trim();
    match t.parse::<IpAddr>() {
        Ok(ip) => Ok(IpNet::new(ip, if ip.is_ipv4() { 32 } else { 128 })?),
        Err(_) => t.parse::<IpNet>().map_err(|_| ScanIoError::BadTarget(t.to_owned())),
    }
}

pub async fn rules(store: &dyn Store, scope: &Scope) -> Result<ScanRules, StoreError> {
    Ok(store
        .get_institution_setting(scope, RULES_KEY)
        .await?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

/// Saves the rules after checking the window and every exclusion.
pub async fn set_rules(store: &dyn Store, scope: &Scope, r: &ScanRules, actor: &str) -> Result<(), ScanIoError> {
    r.window()?;
    r.exclusions()?;
    let json = serde_json::to_string(r).map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(store.set_institution_setting(scope, RULES_KEY, &json, actor).await?)
}

/// Now, in Japan time (time windows are local).
fn now_jst() -> time::OffsetDateTime {
    mamori_domain::time_fmt::now().to_offset(crate::ledger_io::jst())
}

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub profile: Profile,
    /// A segment of the network ledger, by name.
    pub segment: Option<String>,
    /// Single hosts or networks; each must lie inside a registered segment.
    pub targets: Vec<String>,
}

/// What the ledgers say about the network: its segments, the known devices, the fragile ones.
pub struct Network {
    pub scope: ScanScope,
    pub known: KnownDevices,
    pub rules: SegmentRules,
    /// Asset by each of its IP addresses (to link findings to the device).
    pub assets: HashMap<IpAddr, (RecordId, String)>,
    segment_rows: Vec<Row>,
}

fn texts(row: &Row, field: &str) -> Vec<String> {
    match row.get(field) {
        Value::TextList(l) => l.clone(),
        Value::Text(t) => vec![t.clone()],
        _ => Vec::new(),
    }
}

fn text(row: &Row, field: &str) -> String {
    match row.get(field) {
        Value::Text(t) => t.clone(),
        _ => String::new(),
    }
}

pub async fn network(store: &dyn Store, scope: &Scope) -> Result<Network, ScanIoError> {
    let segment_rows = store.list_rows(scope, RecordKind::Segments, &RecordQuery::default()).await?;
    let mut segments = Vec::new();
    let mut rules = SegmentRules::default();
    for row in &segment_rows {
        let name = text(row, "name");
        let medical = name.contains("医療機器") || text(row, "purpose").contains("医療機器");
        for cidr in texts(row, "cidrs") {
            let segment = Segment::new(name.clone(), &cidr)?;
            if medical {
                rules.rules.push(SegmentRule::medical_devices(segment.clone()));
            }
            segments.push(segment);
        }
    }
    let mut known = KnownDevices::default();
    let mut fragile = std::collections::BTreeSet::new();
    let mut assets = HashMap::new();
    for row in store.list_rows(scope, RecordKind::Assets, &RecordQuery::default()).await? {
        let is_fragile = matches!(row.get("fragile"), Value::Bool(true));
        for ip in texts(&row, "ip_addresses") {
            if let Ok(addr) = ip.parse::<IpAddr>() {
                known.ips.insert(addr);
                if is_fragile {
                    fragile.insert(addr);
                }
                assets.insert(addr, (row.id, text(&row, "name")));
            }
        }
        for mac in texts(&row, "mac_addresses") {
            known.macs.insert(mac);
        }
    }
    let exclusions = self::rules(store, scope).await?.exclusions()?;
    Ok(Network { scope: ScanScope { segments, exclusions, fragile }, known, rules, assets, segment_rows })
}

impl Network {
    /// The networks a request names: the segment's CIDRs, or the given targets.
    pub fn targets(&self, req: &ScanRequest) -> Result<Vec<IpNet>, ScanIoError> {
        if self.scope.segments.is_empty() {
            return Err(ScanIoError::NoSegments);
        }
        let mut out = Vec::new();
        if let Some(name) = &req.segment {
            let row = self
                .segment_rows
                .iter()
                .find(|r| text(r, "name") == name.trim())
                .ok_or_else(|| ScanIoError::UnknownSegment(name.clone()))?;
            for cidr in texts(row, "cidrs") {
                out.push(cidr.parse::<IpNet>().map_err(|_| ScanIoError::BadTarget(cidr.clone()))?);
            }
        }
        for t in &req.targets {
            out.push(parse_net(t)?);
        }
        if out.is_empty() {
            return Err(ScanIoError::NoTarget);
        }
        // Whatever the ledger says, the server probes only private networks (and itself),
        // unless the operator of the installation allows more.
        if std::env::var_os("MAMORI_SCAN_ALLOW_PUBLIC").is_none()
            && let Some(net) = out.iter().find(|n| !private(n))
        {
            return Err(ScanIoError::PublicRange(net.to_string()));
        }
        Ok(out)
    }
}

/// The ranges an institution's own network uses: RFC 1918, shared address space (RFC 6598),
/// loopback, IPv6 unique local (fc00::/7) and loopback. Link-local and public ranges are not.
fn private(net: &IpNet) -> bool {
    let private_blocks: [(&str, u8); 7] = [
        ("10.0.0.0", 8),
        ("172.16.0.0", 12),
        ("192.168.0.0", 16),
        ("100.64.0.0", 10),
        ("127.0.0.0", 8),
        ("fc00::", 7),
        ("::1", 128),
    ];
    private_blocks.iter().any(|(addr, prefix)| {
        addr.parse::<IpAddr>()
            .ok()
            .and_then(|a| IpNet::new(a, *prefix).ok())
            .is_some_and(|block| block.contains_net(net))
    })
}

/// The finding's text in the institution's language (Japanese is what is stored).
fn finding_texts(lang: Lang, f: &ScanFinding) -> (String, String, String) {
    let code = f.code.as_str();
    let detail = f.evidence.values().cloned().collect::<Vec<_>>().join(", ");
    let args = [
        ("host", Arg::from(f.host.to_string().as_str())),
        ("port", Arg::from(f.port.map(|p| p.to_string()).unwrap_or_default().as_str())),
        ("detail", Arg::from(detail.as_str())),
    ];
    let get = |part: &str| {
        lang.try_ta(&format!("finding-{code}-{part}"), &args).unwrap_or_else(|| format!("{code} {}", f.host))
    };
    (get("title"), get("why"), get("fix"))
}

/// Findings of a report, stored: new ones created, known ones given the new evidence.
/// Returns `(new, seen again)`.
pub async fn record_findings(
    store: &dyn Store,
    scope: &Scope,
    net: &Network,
    report: &ScanReport,
    evidence: EvidenceId,
    actor: &str,
) -> Result<(u64, u64), StoreError> {
    let input =
        FindingInput { now: Some(report.finished_at), known: Some(&net.known), segment_rules: Some(&net.rules) };
    let (mut new, mut seen) = (0, 0);
    for f in mamori_scan::findings::findings(report, &input) {
        let (title, detail, fix) = finding_texts(Lang::Ja, &f);
        let mut finding = Finding::new(&format!("scan.{}", f.code.as_str()), f.severity, &title, vec![evidence]);
        finding.detail = detail;
        finding.remediation = fix;
        finding.first_seen = mamori_domain::time_fmt::canonical(report.finished_at);
        finding.last_seen = finding.first_seen;
        if let Some((asset, _)) = net.assets.get(&f.host) {
            finding.objects.push(ObjectRef { kind: RecordKind::Assets, id: *asset });
        }
        let key = format!("scan.{}/{}/{}", f.code.as_str(), f.host, f.port.map(|p| p.to_string()).unwrap_or_default());
        if store.observe_finding(scope, &finding, &key, actor).await?.1 {
            new += 1;
        } else {
            seen += 1;
        }
    }
    Ok((new, seen))
}

/// Keeps a report as evidence and raises its findings; returns the evidence id.
pub async fn store_report(
    store: &dyn Store,
    scope: &Scope,
    net: &Network,
    report: &ScanReport,
    source: &str,
    job: Option<mamori_domain::JobId>,
    actor: &str,
) -> Result<(EvidenceId, u64, u64), StoreError> {
    let up = report.hosts.iter().filter(|h| h.up).count();
    let open: usize =
        report.hosts.iter().map(|h| h.ports.iter().filter(|p| p.state == mamori_scan::PortState::Open).count()).sum();
    let profile = mamori_scan::Profile::parse(&report.profile)
        .map_or_else(|_| report.profile.clone(), |p| p.name_ja().to_owned());
    let summary = format!("{profile} {source}: 稼働ホスト {up} 台、開いているポート {open} 件");
    let data = serde_json::to_value(report).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut evidence = Evidence::new(SCAN_EVIDENCE, &summary, data);
    evidence.source = Some(source.to_owned());
    evidence.job_id = job;
    // An imported file's date is what it says, but never in the future (it would stay the
    // "latest scan" for the checklist).
    evidence.observed_at = report.finished_at.min(mamori_domain::time_fmt::now());
    store.put_evidence(scope, &evidence, None, actor).await?;
    let (new, seen) = record_findings(store, scope, net, report, evidence.id, actor).await?;
    Ok((evidence.id, new, seen))
}

/// The report as it leaves mamori: a password that worked is not written out (the finding
/// says that a default account works; the value stays in the server).
pub fn redacted(report: &ScanReport) -> ScanReport {
    let mut r = report.clone();
    for a in &mut r.credential_attempts {
        if !a.secret.is_empty() {
            a.secret = "********".into();
        }
    }
    r
}

/// A scan, running.
pub struct ScanRun {
    pub handle: JobHandle,
    pub done: Arc<AtomicU64>,
    pub total: Arc<AtomicU64>,
}

/// Runs a scan as a `scan` job: cancellable from the jobs page or `mamori jobs cancel`, with
/// progress; the report, its findings and an audit entry (probes sent) when it ends.
pub async fn run_scan(
    runner: &JobRunner,
    store: Arc<dyn Store>,
    scope: Scope,
    req: ScanRequest,
    actor: &str,
) -> Result<ScanRun, ScanIoError> {
    let net = network(&*store, &scope).await?;
    let targets = net.targets(&req)?;
    let mut policy = ScanPolicy::for_profile(req.profile);
    if let Some(w) = rules(&*store, &scope).await?.window()? {
        policy.windows = vec![w];
    }
    // Refuse targets outside the segments, or a time outside the window, before a job exists.
    Scanner::new(policy.clone()).plan(&targets, &net.scope, now_jst())?;
    let job = Job::new(
        Some(scope.institution()),
        "scan",
        serde_json::json!({
            "profile": req.profile.id(),
            "segment": req.segment,
            "targets": targets.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        }),
        actor,
    );
    let done = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let (d, t) = (done.clone(), total.clone());
    let actor = actor.to_owned();
    let source = req.segment.clone().unwrap_or_else(|| req.targets.join(","));
    let handle = runner
        .spawn(job, move |jc| async move {
            let cancel = CancelToken::new();
            let jc = Arc::new(jc);
            let progress: mamori_scan::ProgressFn = {
                let jc = jc.clone();
                Arc::new(move |p: mamori_scan::Progress| {
                    d.store(p.done, Ordering::Relaxed);
                    t.store(p.total, Ordering::Relaxed);
                    jc.set_progress(p.done, Some(p.total));
                })
            };
            // The job's cancellation (from any process) reaches the scanner.
            let watch = {
                let (jc, cancel) = (jc.clone(), cancel.clone());
                tokio::spawn(async move {
                    loop {
                        if jc.is_cancelled() {
                            cancel.cancel();
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    }
                })
            };
            let report = Scanner::new(policy).scan(&targets, &net.scope, now_jst(), &cancel, Some(progress)).await;
            watch.abort();
            let report = report.map_err(|e| JobError::Failed(e.to_string()))?;
            let (evidence, new, seen) =
                store_report(&*store, &scope, &net, &report, &source, Some(jc.id()), &actor).await?;
            let probes = report.probes_total();
            let draft = mamori_domain::audit::AuditDraft::new(&actor, "scan.run").object("evidence", evidence).details(
                serde_json::json!({
                    "profile": report.profile,
                    "targets": source,
                    "hosts": report.hosts.len(),
                    "probes_sent": probes,
                    "cancelled": report.cancelled,
                    "credential_attempts": report.credential_attempts.len(),
                }),
            );
            store.append_audit(scope.chain(), &draft).await?;
            jc.check()?;
            Ok(serde_json::json!({
                "scan": evidence.to_string(),
                "hosts_up": report.hosts.iter().filter(|h| h.up).count(),
                "findings_new": new,
                "findings_seen": seen,
                "probes_sent": probes,
            }))
        })
        .await?;
    Ok(ScanRun { handle, done, total })
}

/// The stored scans, newest first.
pub async fn scans(store: &dyn Store, scope: &Scope, limit: u32) -> Result<Vec<Evidence>, StoreError> {
    store.list_evidence(scope, SCAN_EVIDENCE, limit).await
}

/// One stored scan and its report.
pub async fn report(
    store: &dyn Store,
    scope: &Scope,
    id: Option<EvidenceId>,
) -> Result<(Evidence, ScanReport), ScanIoError> {
    let evidence = match id {
        Some(id) => store.get_evidence(scope, id).await?.filter(|e| e.kind == SCAN_EVIDENCE),
        None => scans(store, scope, 1).await?.into_iter().next(),
    }
    .ok_or_else(|| ScanIoError::NoScan(id.map(|i| i.to_string()).unwrap_or_default()))?;
    let report: ScanReport =
        serde_json::from_value(evidence.data.clone()).map_err(|e| StoreError::Corrupt(format!("scan report: {e}")))?;
    Ok((evidence, report))
}

/// An nmap XML file (from a site that already runs nmap) kept as a scan with its findings.
pub async fn import_nmap(
    store: &dyn Store,
    scope: &Scope,
    xml: &str,
    name: &str,
    actor: &str,
) -> Result<(EvidenceId, u64, u64), ScanIoError> {
    let report = mamori_scan::nmap_xml::import(xml)?;
    let net = network(store, scope).await?;
    Ok(store_report(store, scope, &net, &report, name, None, actor).await?)
}

// ---- what scans tell the checklist -------------------------------------------------------

/// The latest scan as facts for the checklist evaluator (a `Facts` extension).
#[derive(Debug, Clone)]
pub struct NetworkObservations {
    pub scan: EvidenceId,
    pub at: time::OffsetDateTime,
    /// Hosts that answered but are not in the 機器台帳 (as the ledger is now).
    pub unknown: Vec<String>,
    /// Services a clinic should not expose: `(finding code, host:port)`.
    pub unneeded: Vec<(String, String)>,
}

/// Findings that mean a service should not be running where it is.
const UNNEEDED: [&str; 7] = [
    "plaintext-telnet",
    "plaintext-ftp",
    "smbv1-enabled",
    "segment-rule-violation",
    "mqtt-anonymous",
    "snmp-default-community",
    "orthanc-rest-no-auth",
];

pub async fn observations(store: &dyn Store, scope: &Scope) -> Result<Option<NetworkObservations>, ScanIoError> {
    let Some(evidence) = scans(store, scope, 1).await?.into_iter().next() else { return Ok(None) };
    let report: ScanReport =
        serde_json::from_value(evidence.data.clone()).map_err(|e| StoreError::Corrupt(format!("scan report: {e}")))?;
    let net = network(store, scope).await?;
    let input =
        FindingInput { now: Some(report.finished_at), known: Some(&net.known), segment_rules: Some(&net.rules) };
    let found = mamori_scan::findings::findings(&report, &input);
    let at = |f: &ScanFinding| match f.port {
        Some(p) => format!("{}:{p}", f.host),
        None => f.host.to_string(),
    };
    Ok(Some(NetworkObservations {
        scan: evidence.id,
        at: evidence.observed_at,
        unknown: found.iter().filter(|f| f.code.as_str() == "unknown-device").map(|f| f.host.to_string()).collect(),
        unneeded: found
            .iter()
            .filter(|f| UNNEEDED.contains(&f.code.as_str()))
            .map(|f| (f.code.as_str().to_owned(), at(f)))
            .collect(),
    }))
}

fn scan_ref(o: &NetworkObservations) -> mamori_checklist::EvidenceRef {
    mamori_checklist::EvidenceRef::new(
        mamori_checklist::EvidenceKind::Scan,
        o.scan.to_string(),
        format!("ネットワーク検査（{}）", crate::pages::jobs::when(o.at)),
    )
    .observed(Some(o.at))
}

/// 台帳管理: the latest scan found no device missing from the 機器台帳.
pub struct ScanAssetLedgerRule;

impl mamori_checklist::Rule for ScanAssetLedgerRule {
    fn id(&self) -> &str {
        "scan.asset-ledger"
    }
    fn targets(&self) -> Vec<mamori_checklist::RuleTarget> {
        vec![mamori_checklist::RuleTarget::Topic("asset-ledger".into())]
    }
    fn evaluate(&self, ctx: &mamori_checklist::RuleContext<'_>) -> mamori_checklist::Proposal {
        use mamori_checklist::{Proposal, ProposedValue};
        let Some(o) = ctx.facts.extension::<NetworkObservations>() else {
            return Proposal::manual(
                "ネットワーク検査の結果がないため、台帳に載っていない機器があるかは確認できていません。",
            );
        };
        if o.unknown.is_empty() {
            Proposal::new(ProposedValue::Yes)
                .reason("最新のネットワーク検査で、機器台帳に登録されていない機器は見つかりませんでした。")
                .with_evidence([scan_ref(o)])
        } else {
            Proposal::new(ProposedValue::No)
                .reason(format!(
                    "最新のネットワーク検査で、機器台帳に登録されていない機器が {} 台見つかりました（{}）。台帳に登録するか、不要な機器であれば取り外してください。",
                    o.unknown.len(),
                    o.unknown.join("、")
                ))
                .with_evidence([scan_ref(o)])
        }
    }
}

/// 不要なサービスの停止: the latest scan found no Telnet, FTP, SMBv1, anonymous MQTT, default
/// SNMP community or open Orthanc, and nothing a segment rule forbids.
pub struct ScanUnneededServicesRule;

impl mamori_checklist::Rule for ScanUnneededServicesRule {
    fn id(&self) -> &str {
        "scan.unneeded-services"
    }
    fn targets(&self) -> Vec<mamori_checklist::RuleTarget> {
        vec![mamori_checklist::RuleTarget::Topic("unneeded-services".into())]
    }
    fn evaluate(&self, ctx: &mamori_checklist::RuleContext<'_>) -> mamori_checklist::Proposal {
        use mamori_checklist::{Proposal, ProposedValue};
        let Some(o) = ctx.facts.extension::<NetworkObservations>() else {
            return Proposal::manual(
                "ネットワーク検査の結果がないため、不要なサービスが動いているかは確認できていません。",
            );
        };
        if o.unneeded.is_empty() {
            Proposal::new(ProposedValue::Yes)
                .reason("最新のネットワーク検査で、Telnet・FTP・SMBv1 など止めるべきサービスは見つかりませんでした（検査したのは外から接続できるサービスです）。")
                .with_evidence([scan_ref(o)])
        } else {
            let list: Vec<String> = o.unneeded.iter().map(|(code, at)| format!("{at}（{code}）")).collect();
            Proposal::new(ProposedValue::No)
                .reason(format!("最新のネットワーク検査で、止めるべきサービスが見つかりました: {}。指摘事項の画面で対応を確認してください。", list.join("、")))
                .with_evidence([scan_ref(o)])
        }
    }
}

/// The checklist rules scans contribute.
pub fn checklist_rules() -> Vec<Box<dyn mamori_checklist::Rule>> {
    vec![Box::new(ScanAssetLedgerRule), Box::new(ScanUnneededServicesRule)]
}

// ---- monthly scans -----------------------------------------------------------------------

/// Institution setting holding the scan schedule.
pub const SCHEDULE_KEY: &str = "scan-schedule";

/// A scan run every month on a day at an hour (Japan time), e.g. outside clinic hours.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    /// `medical-safe`, `standard` or `full`.
    pub profile: String,
    pub segment: String,
    /// 1–28, so every month has it.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// `YYYY-MM` of the last run, so a month runs once.
    #[serde(default)]
    pub last_run: Option<String>,
}

impl Schedule {
    /// Whether the schedule is due at `now` (Japan time) and has not run this month.
    pub fn due(&self, now: time::OffsetDateTime) -> bool {
        let jst = now.to_offset(crate::ledger_io::jst());
        let month = format!("{:04}-{:02}", jst.year(), u8::from(jst.month()));
        jst.day() >= self.day
            && (jst.day() > self.day || jst.hour() >= self.hour)
            && self.last_run.as_deref() != Some(&month)
    }

    fn month(now: time::OffsetDateTime) -> String {
        let jst = now.to_offset(crate::ledger_io::jst());
        format!("{:04}-{:02}", jst.year(), u8::from(jst.month()))
    }
}

pub async fn schedule(store: &dyn Store, scope: &Scope) -> Result<Option<Schedule>, StoreError> {
    Ok(store.get_institution_setting(scope, SCHEDULE_KEY).await?.and_then(|j| serde_json::from_str(&j).ok()))
}

/// Saves (or with `None` removes) the schedule, after checking the profile and the segment.
pub async fn set_schedule(
    store: &dyn Store,
    scope: &Scope,
    s: Option<&Schedule>,
    actor: &str,
) -> Result<(), ScanIoError> {
    let json = match s {
        Some(s) => {
            Profile::parse(&s.profile)?;
            network(store, scope).await?.targets(&ScanRequest {
                profile: Profile::Standard,
                segment: Some(s.segment.clone()),
                targets: Vec::new(),
            })?;
            if !(1..=28).contains(&s.day) || s.hour > 23 {
                return Err(ScanIoError::BadTarget(format!("{} {}", s.day, s.hour)));
            }
            // A schedule the time window would refuse would never run.
            if let Some(w) = rules(store, scope).await?.window()? {
                let at = time::Date::from_calendar_date(2026, time::Month::January, 5)
                    .expect("a valid date")
                    .with_hms(s.hour, 0, 0)
                    .expect("a valid hour")
                    .assume_offset(crate::ledger_io::jst());
                if !w.allows(at) {
                    return Err(ScanIoError::Scan(mamori_scan::ScanError::OutsideTimeWindow));
                }
            }
            serde_json::to_string(s).map_err(|e| StoreError::Invalid(e.to_string()))?
        }
        None => "null".to_owned(),
    };
    Ok(store.set_institution_setting(scope, SCHEDULE_KEY, &json, actor).await?)
}

/// Starts the scans that are due (called by `mamori serve` every 30 s). Each starts once a
/// month: the month is recorded before the scan starts.
pub async fn run_due(runner: &JobRunner, store: Arc<dyn Store>) -> Result<u32, ScanIoError> {
    let now = mamori_domain::time_fmt::now();
    let mut started = 0;
    for inst in store.list_institutions().await? {
        // One institution's problem must not stop the others' scans.
        match start_if_due(runner, store.clone(), inst.id, now).await {
            Ok(true) => started += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(institution = %inst.id, error = %e, "the scheduled scan could not start"),
        }
    }
    Ok(started)
}

async fn start_if_due(
    runner: &JobRunner,
    store: Arc<dyn Store>,
    institution: mamori_domain::InstitutionId,
    now: time::OffsetDateTime,
) -> Result<bool, ScanIoError> {
    let scope = store.scope(institution).await?;
    let Some(mut s) = schedule(&*store, &scope).await? else { return Ok(false) };
    if !s.due(now) {
        return Ok(false);
    }
    // Recorded first, so that a scan that cannot start is not retried every 30 s; the
    // reason is in the audit log.
    s.last_run = Some(Schedule::month(now));
    let json = serde_json::to_string(&s).map_err(|e| StoreError::Invalid(e.to_string()))?;
    store.set_institution_setting(&scope, SCHEDULE_KEY, &json, "schedule").await?;
    let req =
        ScanRequest { profile: Profile::parse(&s.profile)?, segment: Some(s.segment.clone()), targets: Vec::new() };
    match run_scan(runner, store.clone(), scope, req, "schedule").await {
        Ok(_) => Ok(true),
        Err(e) => {
            let draft = mamori_domain::audit::AuditDraft::new("schedule", "scan.schedule_failed")
                .details(serde_json::json!({"segment": s.segment, "code": e.code()}));
            store.append_audit(scope.chain(), &draft).await?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;
    use time::macros::datetime;

    #[test]
    fn a_schedule_is_due_once_a_month_after_its_day_and_hour() {
        let s = Schedule { profile: "standard".into(), segment: "LAN".into(), day: 5, hour: 22, last_run: None };
        // 2026-11-05 21:59 JST: not yet; 22:00 JST: due; later days of the month too.
        assert!(!s.due(datetime!(2026-11-05 12:59 UTC)));
        assert!(s.due(datetime!(2026-11-05 13:00 UTC)));
        assert!(s.due(datetime!(2026-11-20 00:00 UTC)));
        assert!(!s.due(datetime!(2026-11-04 23:00 UTC)));
        let ran = Schedule { last_run: Some("2026-11".into()), ..s.clone() };
        assert!(!ran.due(datetime!(2026-11-20 00:00 UTC)), "once a month");
        assert!(ran.due(datetime!(2026-12-05 13:00 UTC)));
    }
}
