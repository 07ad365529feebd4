//! Each ledger rule on fixture facts: a はい case, a いいえ case, and the evidence it names.

use crate::{fy2024, fy2025};
use mamori_checklist::evaluate::{Document, DocumentKind, Responsible, RuleTarget, rules_coverage};
use mamori_checklist::{
    Evaluation, Evaluator, EvidenceKind, FactProvider, Facts, Proposal, ProposedValue, Rule, RuleContext,
};
use mamori_domain::RecordId;
use mamori_domain::ledger::*;
use mamori_domain::record::{Record, RecordKind};
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

const AS_OF: Date = date!(2025 - 07 - 01);

fn facts() -> Facts {
    Facts::new(AS_OF)
}

fn set<R: Record>(facts: &mut Facts, records: &[R], updated: Option<OffsetDateTime>) {
    facts.set_ledger(R::KIND, records.iter().map(Record::to_row).collect(), updated);
}

fn person(name: &str, retired_on: Option<Date>) -> Person {
    Person {
        id: RecordId::new(),
        name: name.into(),
        name_kana: None,
        staff_number: None,
        department: None,
        job_title: None,
        email: None,
        joined_on: None,
        retired_on,
        notes: None,
    }
}

fn account(system: &str, user: &str, person: Option<&Person>, status: AccountStatus) -> Account {
    Account {
        id: RecordId::new(),
        system: system.into(),
        username: user.into(),
        asset_id: None,
        holder: AccountHolder::Person,
        person_id: person.map(|p| p.id),
        vendor_id: None,
        role: None,
        privileged: None,
        mfa: None,
        last_login_at: None,
        status,
        notes: None,
    }
}

fn vendor(name: &str) -> Vendor {
    Vendor {
        id: RecordId::new(),
        name: name.into(),
        service: None,
        contact_name: None,
        phone: None,
        email: None,
        emergency_contact: None,
        address: None,
        notes: None,
    }
}

fn contract(v: &Vendor, title: &str) -> Contract {
    Contract {
        id: RecordId::new(),
        vendor_id: v.id,
        title: title.into(),
        scope: None,
        starts_on: None,
        ends_on: None,
        responsibility: None,
        notes: None,
    }
}

fn evaluate(facts: &Facts) -> Evaluation {
    Evaluator::with_ledger_rules().evaluate(fy2025(), "clinic", facts).unwrap()
}

fn proposal<'a>(e: &'a Evaluation, item: &str, class: Option<&str>) -> &'a Proposal {
    e.get(item, class).unwrap_or_else(|| panic!("no proposal for {item}"))
}

fn has_row(p: &Proposal, kind: RecordKind, id: RecordId) -> bool {
    p.evidence.iter().any(|e| e.kind == EvidenceKind::LedgerRow && e.ledger == Some(kind) && e.id == id.to_string())
}

#[test]
fn asset_ledger_covers_all_classes_and_is_recent() {
    let mut f = facts();
    let assets = [
        Asset::new(AssetKind::Server, "電子カルテサーバ"),
        Asset::new(AssetKind::Pc, "受付PC"),
        Asset::new(AssetKind::NetworkDevice, "VPNルータ"),
    ];
    set(&mut f, &assets, Some(datetime!(2025-05-01 09:00 UTC)));
    let p = proposal(&evaluate(&f), "2-①", None).clone();
    assert_eq!(p.value, ProposedValue::Yes, "{:?}", p.reasons);
    assert!(p.reasons.iter().any(|r| r.contains("2025-05-01")));
    let e = p.evidence.iter().find(|e| e.ledger == Some(RecordKind::Assets)).unwrap();
    assert_eq!(e.observed_at, Some(datetime!(2025-05-01 09:00 UTC)));
    assert!(e.label.contains("3件"));

    // Stale: last update more than 12 months ago.
    set(&mut f, &assets, Some(datetime!(2024-06-30 09:00 UTC)));
    let p = proposal(&evaluate(&f), "2-①", None).clone();
    assert_eq!(p.value, ProposedValue::No);
    assert!(p.reasons.iter().any(|r| r.contains("1年以上前")));

    // No network device registered.
    set(&mut f, &assets[..2], Some(datetime!(2025-05-01 09:00 UTC)));
    let p = proposal(&evaluate(&f), "2-①", None).clone();
    assert_eq!(p.value, ProposedValue::No);
    assert!(p.reasons.iter().any(|r| r.contains("ネットワーク機器が1台も登録されていません")));
}

#[test]
fn security_officer_designated_and_still_employed() {
    let mut f = facts();
    assert_eq!(proposal(&evaluate(&f), "1-①", None).value, ProposedValue::No);
    let director = person("山田 太郎", None);
    set(&mut f, std::slice::from_ref(&director), None);
    f.responsible = Some(Responsible {
        name: director.name.clone(),
        person_id: Some(director.id),
        designated_on: Some(date!(2024 - 04 - 01)),
    });
    f.documents.push(Document {
        id: "doc-1".into(),
        kind: DocumentKind::Appointment,
        title: "辞令".into(),
        reviewed_on: None,
        registered_at: None,
    });
    let e = evaluate(&f);
    let p = proposal(&e, "1-①", None);
    assert_eq!(p.value, ProposedValue::Yes);
    assert!(has_row(p, RecordKind::Staff, director.id));
    assert!(p.evidence.iter().any(|e| e.kind == EvidenceKind::Document && e.id == "doc-1"));
    assert!(p.evidence.iter().any(|e| e.kind == EvidenceKind::Designation));

    let retired = Person { retired_on: Some(date!(2025 - 03 - 31)), ..director };
    set(&mut f, &[retired], None);
    let p = proposal(&evaluate(&f), "1-①", None).clone();
    assert_eq!(p.value, ProposedValue::No);
    assert!(p.reasons[0].contains("2025-03-31に退職"), "{:?}", p.reasons);
}

#[test]
fn mds_sds_received_from_every_contracted_vendor() {
    let mut f = facts();
    let emr = vendor("カルテ株式会社");
    let net = vendor("ネット保守株式会社");
    set(&mut f, &[emr.clone(), net.clone()], None);
    let c1 = contract(&emr, "電子カルテ保守");
    let c2 = contract(&net, "ネットワーク保守");
    set(&mut f, &[c1.clone(), c2.clone()], None);
    let doc = MdsSds {
        id: RecordId::new(),
        system: "電子カルテ".into(),
        vendor_id: Some(emr.id),
        document: SecurityDisclosure::Sds,
        version: None,
        received_on: Some(date!(2025 - 04 - 10)),
        evidence_id: None,
        notes: None,
    };
    set(&mut f, std::slice::from_ref(&doc), None);
    let p = proposal(&evaluate(&f), "2-③", None).clone();
    assert_eq!(p.value, ProposedValue::No);
    assert!(p.reasons.iter().any(|r| r.contains("ネット保守株式会社")), "{:?}", p.reasons);
    assert!(has_row(&p, RecordKind::Contracts, c2.id));
    assert!(has_row(&p, RecordKind::MdsSds, doc.id));

    let doc2 =
        MdsSds { id: RecordId::new(), system: "ネットワーク".into(), vendor_id: Some(net.id), ..doc.clone() };
    set(&mut f, &[doc.clone(), doc2.clone()], None);
    let p = proposal(&evaluate(&f), "2-③", None).clone();
    assert_eq!(p.value, ProposedValue::Yes, "{:?}", p.reasons);
    assert!(has_row(&p, RecordKind::MdsSds, doc2.id));
}

#[test]
fn remote_maintenance_registered_restricted_and_confirmed() {
    let mut f = facts();
    let v = vendor("カルテ株式会社");
    set(&mut f, std::slice::from_ref(&v), None);
    set(&mut f, &[contract(&v, "保守")], None);
    let mut rm = RemoteMaintenance {
        id: RecordId::new(),
        vendor_id: v.id,
        asset_id: None,
        method: RemoteMethod::Vpn,
        authentication: Some("証明書".into()),
        source_restriction: Some("事業者拠点のIPのみ".into()),
        approval_rule: None,
        confirmed_on: Some(date!(2025 - 04 - 15)),
        last_used_at: None,
        notes: None,
    };
    set(&mut f, std::slice::from_ref(&rm), Some(datetime!(2025-04-15 10:00 UTC)));
    let p = proposal(&evaluate(&f), "2-②", None).clone();
    assert_eq!(p.value, ProposedValue::Yes, "{:?}", p.reasons);
    assert!(has_row(&p, RecordKind::RemoteMaintenance, rm.id));

    rm.source_restriction = None;
    rm.confirmed_on = Some(date!(2024 - 01 - 10));
    set(&mut f, std::slice::from_ref(&rm), None);
    let p = proposal(&evaluate(&f), "2-②", None).clone();
    assert_eq!(p.value, ProposedValue::No);
    assert!(p.reasons.iter().any(|r| r.contains("接続元制限")));
    assert!(p.reasons.iter().any(|r| r.contains("2024-01-10")));
}

#[test]
fn accounts_of_retired_staff_per_device_class() {
    let mut f = facts();
    let gone = person("佐藤 花子", Some(date!(2025 - 03 - 31)));
    let here = person("鈴木 一郎", None);
    set(&mut f, &[gone.clone(), here.clone()], None);
    let server = Asset::new(AssetKind::Server, "カルテサーバ");
    let pc = Asset::new(AssetKind::Pc, "受付PC");
    set(&mut f, &[server.clone(), pc.clone()], None);
    let mut on_pc = account("Windows", "hsato", Some(&gone), AccountStatus::Enabled);
    on_pc.asset_id = Some(pc.id);
    let mut on_server = account("電子カルテ", "isuzuki", Some(&here), AccountStatus::Enabled);
    on_server.asset_id = Some(server.id);
    let mut disabled = account("電子カルテ", "hsato", Some(&gone), AccountStatus::Disabled);
    disabled.asset_id = Some(server.id);
    set(&mut f, &[on_pc.clone(), on_server, disabled], None);

    let e = evaluate(&f);
    let pc_p = proposal(&e, "2-⑤", Some("terminal_pc"));
    assert_eq!(pc_p.value, ProposedValue::No);
    assert!(pc_p.reasons[0].contains("佐藤 花子") && pc_p.reasons[0].contains("端末PC"), "{:?}", pc_p.reasons);
    assert!(has_row(pc_p, RecordKind::Accounts, on_pc.id) && has_row(pc_p, RecordKind::Staff, gone.id));
    let server_p = proposal(&e, "2-⑤", Some("server"));
    assert_eq!(server_p.value, ProposedValue::Yes, "{:?}", server_p.reasons);
    assert!(server_p.evidence.iter().any(|e| e.ledger == Some(RecordKind::Accounts)));
}

#[test]
fn two_factor_from_account_mfa() {
    let mut f = facts();
    let mut a = account("電子カルテ", "dr1", None, AccountStatus::Enabled);
    a.mfa = Some(true);
    let mut b = account("VPN", "vendor", None, AccountStatus::Enabled);
    b.holder = AccountHolder::Vendor;
    b.mfa = Some(true);
    let mut svc = account("バックアップ", "svc", None, AccountStatus::Enabled);
    svc.holder = AccountHolder::Service;
    set(&mut f, &[a.clone(), b.clone(), svc], None);
    assert_eq!(proposal(&evaluate(&f), "2-⑩", None).value, ProposedValue::Yes);

    b.mfa = Some(false);
    set(&mut f, &[a, b.clone()], None);
    let p = proposal(&evaluate(&f), "2-⑩", None).clone();
    assert_eq!(p.value, ProposedValue::No);
    assert!(p.reasons[0].contains("令和9年度") && p.reasons[0].contains("VPN"), "{:?}", p.reasons);
    assert!(has_row(&p, RecordKind::Accounts, b.id));
}

#[test]
fn documents_registered_and_reviewed_within_the_year() {
    let mut f = facts();
    let doc = |kind, reviewed_on| Document {
        id: format!("{kind:?}"),
        kind,
        title: "院内".into(),
        reviewed_on,
        registered_at: None,
    };
    f.documents = vec![
        doc(DocumentKind::ContactChart, Some(date!(2025 - 04 - 01))),
        doc(DocumentKind::Bcp, Some(date!(2024 - 05 - 01))),
    ];
    let e = evaluate(&f);
    let chart = proposal(&e, "3-①", None);
    assert_eq!(chart.value, ProposedValue::Yes);
    assert_eq!(chart.evidence[0].kind, EvidenceKind::Document);
    assert!(chart.evidence[0].label.contains("2025-04-01"));
    let bcp = proposal(&e, "3-③", None);
    assert_eq!(bcp.value, ProposedValue::No);
    assert!(bcp.reasons[0].contains("1年以上前"));
    let rules = proposal(&e, "4-①", None);
    assert_eq!(rules.value, ProposedValue::No);
    assert!(rules.reasons[0].contains("運用管理規程が mamori に登録されていません"));
    // Items with no rule are manual.
    let usb = proposal(&e, "2-⑨", None);
    assert_eq!(usb.value, ProposedValue::Manual);
    assert!(usb.rules.is_empty());
}

#[test]
fn ledger_rules_answer_the_earlier_edition_too() {
    let mut f = facts();
    f.documents = vec![Document {
        id: "b".into(),
        kind: DocumentKind::Bcp,
        title: "BCP".into(),
        reviewed_on: Some(AS_OF),
        registered_at: None,
    }];
    let e = Evaluator::with_ledger_rules().evaluate(fy2024(), "clinic", &f).unwrap();
    assert_eq!(e.get("3-(3)", None).unwrap().value, ProposedValue::Yes);
    // Vendor forms are not answered from the institution's ledgers.
    let v = Evaluator::with_ledger_rules().evaluate(fy2025(), "vendor", &f).unwrap();
    assert!(v.proposals.iter().all(|p| p.proposal.value == ProposedValue::Manual));
}

/// A later crate (here: a pretend scanner) adds typed facts and a rule.
struct ScanSummary {
    unregistered_devices: Vec<String>,
}
struct ScanProvider;
impl FactProvider for ScanProvider {
    fn id(&self) -> &str {
        "scan"
    }
    fn provide(&self, facts: &mut Facts) {
        facts.insert_extension(ScanSummary { unregistered_devices: vec!["192.168.1.50".into()] });
    }
}
struct NoUnregisteredDevices;
impl Rule for NoUnregisteredDevices {
    fn id(&self) -> &str {
        "scan.unregistered-devices"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        vec![RuleTarget::Topic("asset-ledger".into()), RuleTarget::Item("9-⑨".into())]
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        match ctx.facts.extension::<ScanSummary>() {
            None => Proposal::manual("ネットワーク調査がまだありません。"),
            Some(s) if s.unregistered_devices.is_empty() => Proposal::new(ProposedValue::Yes),
            Some(s) => Proposal::new(ProposedValue::No)
                .reason(format!("台帳にない機器: {}", s.unregistered_devices.join("、"))),
        }
    }
}

#[test]
fn plug_in_facts_and_rules_combine_with_ledger_rules() {
    let mut f = facts();
    let assets =
        [Asset::new(AssetKind::Server, "s"), Asset::new(AssetKind::Pc, "p"), Asset::new(AssetKind::NetworkDevice, "n")];
    set(&mut f, &assets, Some(datetime!(2025-05-01 09:00 UTC)));
    let mut ev = Evaluator::with_ledger_rules();
    ev.add_rule(Box::new(NoUnregisteredDevices));
    // Without scan facts the scan rule cannot decide, and does not block the ledger rule.
    assert_eq!(ev.evaluate(fy2025(), "clinic", &f).unwrap().get("2-①", None).unwrap().value, ProposedValue::Yes);
    f.provide(&[&ScanProvider]);
    let e = ev.evaluate(fy2025(), "clinic", &f).unwrap();
    let p = e.get("2-①", None).unwrap();
    assert_eq!(p.value, ProposedValue::No);
    assert_eq!(p.rules, ["ledger.asset-coverage", "scan.unregistered-devices"]);
    assert!(p.reasons.iter().any(|r| r.contains("192.168.1.50")));

    let cov = rules_coverage(fy2025(), ev.rules());
    assert!(
        cov.rules_without_item
            .iter()
            .any(|d| d.rule_id == "scan.unregistered-devices" && d.target == RuleTarget::Item("9-⑨".into()))
    );
    let without: Vec<&str> =
        cov.items_without_rule.iter().filter(|i| i.form == "clinic").map(|i| i.item_id.as_str()).collect();
    assert_eq!(without, ["2-⑥", "2-⑦", "2-⑧", "2-⑨", "2-⑪", "2-⑫", "2-⑬", "3-②"]);
    assert!(cov.items_without_rule.iter().any(|i| i.form == "vendor" && i.item_id == "2-③"));
}
