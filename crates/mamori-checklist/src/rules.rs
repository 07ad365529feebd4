//! Rules the ledgers can answer today. Each proposes はい only when the ledgers show it,
//! いいえ when they show a gap (and says which rows), and 判定不可 when the ledgers are empty
//! or silent. Every rule names the rows it looked at as evidence.
//!
//! "Within the year" means within 12 months before [`Facts::as_of`].

use crate::dates::{self, add_years};
use crate::definition::device_class;
use crate::evaluate::{
    Document, DocumentKind, EvidenceKind, EvidenceRef, Facts, Proposal, ProposedValue, Rule, RuleContext, RuleTarget,
};
use mamori_domain::RecordId;
use mamori_domain::ledger::{
    Account, AccountHolder, AccountStatus, Asset, AssetKind, Contract, MdsSds, Person, RemoteMaintenance, Vendor,
};
use mamori_domain::record::{Record, RecordKind};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, OffsetDateTime};

/// An account not used for this long is listed as possibly unneeded.
pub const DORMANT_DAYS: i64 = 365;

/// All rules of this module.
pub fn ledger_rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(SystemPresence),
        Box::new(SecurityOfficer),
        Box::new(AssetLedger),
        Box::new(RemoteMaintenanceConfirmed),
        Box::new(MdsSdsReceived),
        Box::new(AdminAccountsOwned),
        Box::new(NoAccountsOfRetiredStaff),
        Box::new(TwoFactorOnAccounts),
        Box::new(DocumentReviewed {
            id: "document.contact-chart",
            topic: "contact-chart",
            kind: DocumentKind::ContactChart,
        }),
        Box::new(DocumentReviewed { id: "document.bcp", topic: "bcp", kind: DocumentKind::Bcp }),
        Box::new(DocumentReviewed {
            id: "document.operation-rules",
            topic: "regulations",
            kind: DocumentKind::OperationRules,
        }),
    ]
}

fn topic(t: &str) -> Vec<RuleTarget> {
    vec![RuleTarget::Topic(t.to_owned())]
}

fn year_ago(facts: &Facts) -> Date {
    add_years(facts.as_of, -1)
}

fn row_ref<R: Record>(facts: &Facts, id: RecordId, label: String) -> EvidenceRef {
    EvidenceRef::ledger_row(R::KIND, id, label).observed(facts.updated_at(R::KIND))
}

fn ledger_ref(facts: &Facts, kind: RecordKind, label: &str) -> EvidenceRef {
    let count = facts.rows(kind).len();
    EvidenceRef {
        kind: EvidenceKind::LedgerRow,
        ledger: Some(kind),
        id: kind.as_str().to_owned(),
        label: format!("{label}（{count}件）"),
        observed_at: facts.updated_at(kind),
    }
}

fn names(list: &[String]) -> String {
    const MAX: usize = 5;
    let mut s = list.iter().take(MAX).cloned().collect::<Vec<_>>().join("、");
    if list.len() > MAX {
        s.push_str(&format!(" ほか{}件", list.len() - MAX));
    }
    s
}

fn asset_kind_label(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Server => "サーバ",
        AssetKind::Pc => "端末PC",
        AssetKind::NetworkDevice => "ネットワーク機器",
        AssetKind::MedicalDevice => "医療機器",
        AssetKind::Iot => "IoT機器",
        AssetKind::Other => "その他の機器",
    }
}

/// The device class of the checklist an asset kind belongs to.
pub fn device_class_of(kind: AssetKind) -> Option<&'static str> {
    match kind {
        AssetKind::Server => Some(device_class::SERVER),
        AssetKind::Pc => Some(device_class::TERMINAL_PC),
        AssetKind::NetworkDevice => Some(device_class::NETWORK_DEVICE),
        _ => None,
    }
}

fn vendor_names(facts: &Facts) -> BTreeMap<RecordId, String> {
    facts.records::<Vendor>().into_iter().map(|v| (v.id, v.name)).collect()
}

fn fmt_ts(t: OffsetDateTime) -> String {
    dates::format(t.date())
}

/// 医療情報システムの有無: はい when the asset ledger has servers, PCs or network devices.
pub struct SystemPresence;

impl Rule for SystemPresence {
    fn id(&self) -> &str {
        "ledger.system-presence"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("system-presence")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let computers: Vec<Asset> =
            facts.records::<Asset>().into_iter().filter(|a| device_class_of(a.kind).is_some()).collect();
        if computers.is_empty() {
            return Proposal::manual(
                "機器台帳にサーバ・端末PC・ネットワーク機器が登録されていません。患者さんの情報を扱うコンピュータがあるか確認してください。",
            );
        }
        Proposal::new(ProposedValue::Yes)
            .reason(format!("機器台帳にサーバ・端末PC・ネットワーク機器が{}台登録されています。", computers.len()))
            .with_evidence([ledger_ref(facts, RecordKind::Assets, "機器台帳")])
    }
}

/// 医療情報システム安全管理責任者: a person is designated and has not retired.
pub struct SecurityOfficer;

impl Rule for SecurityOfficer {
    fn id(&self) -> &str {
        "designation.security-officer"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("security-officer")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let Some(r) = &facts.responsible else {
            return Proposal::new(ProposedValue::No).reason(
                "医療情報システム安全管理責任者が mamori に登録されていません。院長（管理者）が責任者を決め、登録してください。",
            );
        };
        let mut evidence =
            vec![EvidenceRef::new(EvidenceKind::Designation, "responsible", format!("責任者: {}", r.name))];
        if let Some(pid) = r.person_id
            && let Some(person) = facts.records::<Person>().into_iter().find(|p| p.id == pid)
        {
            evidence.push(row_ref::<Person>(facts, person.id, format!("職員名簿: {}", person.name)));
            if let Some(retired) = person.retired_on.filter(|d| *d <= facts.as_of) {
                return Proposal::new(ProposedValue::No)
                    .reason(format!(
                        "責任者の{}さんは{}に退職しています。新しい責任者を決めて登録してください。",
                        person.name,
                        dates::format(retired)
                    ))
                    .with_evidence(evidence);
            }
        }
        let appointment: Vec<&Document> =
            facts.documents.iter().filter(|d| d.kind == DocumentKind::Appointment).collect();
        for d in &appointment {
            evidence.push(document_ref(d));
        }
        let mut p = Proposal::new(ProposedValue::Yes).reason(match r.designated_on {
            Some(on) => format!("{}さんが{}から責任者として登録されています。", r.name, dates::format(on)),
            None => format!("{}さんが責任者として登録されています。", r.name),
        });
        if appointment.is_empty() {
            p = p
                .reason("任命の記録（辞令、組織図、運用管理規程など）も文書として登録しておくと、立入検査で示せます。");
        }
        p.with_evidence(evidence)
    }
}

/// 台帳管理: the asset ledger covers servers, PCs and network devices and was updated within
/// the year.
pub struct AssetLedger;

impl Rule for AssetLedger {
    fn id(&self) -> &str {
        "ledger.asset-coverage"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("asset-ledger")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let assets = facts.records::<Asset>();
        if assets.is_empty() {
            return Proposal::new(ProposedValue::No).reason(
                "機器台帳に機器が1台も登録されていません。納品した事業者に機器の一覧をもらい、取り込んでください。",
            );
        }
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &assets {
            *count.entry(asset_kind_label(a.kind)).or_default() += 1;
        }
        let summary = count.iter().map(|(k, n)| format!("{k}{n}台")).collect::<Vec<_>>().join("、");
        let mut p = Proposal::new(ProposedValue::Yes)
            .reason(format!("機器台帳に{summary}が登録されています。"))
            .with_evidence([ledger_ref(facts, RecordKind::Assets, "機器台帳")]);
        let mut failed = false;
        for (kind, what) in [(AssetKind::Pc, "端末PC"), (AssetKind::NetworkDevice, "ネットワーク機器")] {
            if !assets.iter().any(|a| a.kind == kind) {
                failed = true;
                p = p.reason(format!("{what}が1台も登録されていません。{what}も台帳に載せてください。"));
            }
        }
        let mut unsure = false;
        if !assets.iter().any(|a| a.kind == AssetKind::Server) {
            unsure = true;
            p = p.reason(
                "サーバが登録されていません。院内にサーバがない（クラウド型など）場合はそのままで構いません。あるなら台帳に載せてください。",
            );
        }
        match facts.updated_at(RecordKind::Assets) {
            Some(t) if t.date() >= year_ago(facts) => {
                p = p.reason(format!("機器台帳は{}に更新されています（1年以内）。", fmt_ts(t)));
            }
            Some(t) => {
                failed = true;
                p = p.reason(format!(
                    "機器台帳の最後の更新は{}で、1年以上前です。買い替えや廃棄を反映して見直してください。",
                    fmt_ts(t)
                ));
            }
            None => {
                unsure = true;
                p = p.reason("機器台帳の更新日が分かりません。この1年に見直したか確認してください。");
            }
        }
        p.value = if failed {
            ProposedValue::No
        } else if unsure {
            ProposedValue::Manual
        } else {
            ProposedValue::Yes
        };
        p
    }
}

/// リモートメンテナンス: every remote connection is registered with its vendor, its 接続元制限
/// and the date it was confirmed with the vendor (within the year).
pub struct RemoteMaintenanceConfirmed;

impl Rule for RemoteMaintenanceConfirmed {
    fn id(&self) -> &str {
        "ledger.remote-maintenance"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("remote-maintenance")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let vendors = vendor_names(facts);
        let rows = facts.records::<RemoteMaintenance>();
        let contracted: BTreeSet<RecordId> = facts.records::<Contract>().iter().map(|c| c.vendor_id).collect();
        if rows.is_empty() {
            return if contracted.is_empty() && vendors.is_empty() {
                Proposal::manual("事業者台帳・契約台帳が空です。事業者と契約していない場合、この項目は記入不要です。")
            } else {
                Proposal::manual(
                    "リモートメンテナンス接続台帳が空です。契約しているすべての事業者に遠隔保守で接続している機器があるか問い合わせ、回答を登録してください。",
                )
                .with_evidence([ledger_ref(facts, RecordKind::Vendors, "事業者台帳")])
            };
        }
        let cutoff = year_ago(facts);
        let mut p = Proposal::new(ProposedValue::Yes);
        let mut problems = 0;
        for r in &rows {
            let vendor = vendors.get(&r.vendor_id).cloned().unwrap_or_else(|| "（事業者台帳にない事業者）".into());
            let label = format!("{vendor}（{}）", r.method.as_str());
            p.evidence.push(row_ref::<RemoteMaintenance>(facts, r.id, format!("リモートメンテナンス接続: {label}")));
            if !vendors.contains_key(&r.vendor_id) {
                problems += 1;
                p = p.reason(format!("接続 {label} の事業者が事業者台帳にありません。"));
            }
            if r.source_restriction.as_deref().is_none_or(|s| s.trim().is_empty()) {
                problems += 1;
                p = p.reason(format!("{label} の接続元制限が記録されていません。事業者に確認して記録してください。"));
            }
            match r.confirmed_on {
                Some(d) if d >= cutoff => {}
                Some(d) => {
                    problems += 1;
                    p = p.reason(format!(
                        "{label} を事業者に確認したのは{}で、1年以上前です。改めて確認してください。",
                        dates::format(d)
                    ));
                }
                None => {
                    problems += 1;
                    p = p.reason(format!("{label} を事業者に確認した日が記録されていません。"));
                }
            }
        }
        if problems > 0 {
            p.value = ProposedValue::No;
            return p;
        }
        p = p.reason(format!(
            "リモートメンテナンス接続{}件すべてに事業者、接続元制限、1年以内の確認日が記録されています。",
            rows.len()
        ));
        let with_rows: BTreeSet<RecordId> = rows.iter().map(|r| r.vendor_id).collect();
        let silent: Vec<String> = contracted
            .difference(&with_rows)
            .map(|v| vendors.get(v).cloned().unwrap_or_else(|| v.to_string()))
            .collect();
        if !silent.is_empty() {
            p.value = ProposedValue::Manual;
            p = p.reason(format!(
                "契約している次の事業者には接続の登録がありません。遠隔保守がないことを確認済みか確かめてください: {}",
                names(&silent)
            ));
        }
        p
    }
}

/// MDS/SDS: received from every contracted vendor, and every registered MDS/SDS has its
/// 受領日.
pub struct MdsSdsReceived;

impl Rule for MdsSdsReceived {
    fn id(&self) -> &str {
        "ledger.mds-sds"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("mds-sds")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let vendors = vendor_names(facts);
        let docs = facts.records::<MdsSds>();
        let contracts: Vec<Contract> =
            facts.records::<Contract>().into_iter().filter(|c| c.ends_on.is_none_or(|e| e >= facts.as_of)).collect();
        if docs.is_empty() && contracts.is_empty() {
            return Proposal::manual(
                "契約台帳と MDS/SDS 受領状況が空です。システムを提供している事業者がいる場合は、契約と受け取った MDS/SDS を登録してください。",
            );
        }
        let mut p = Proposal::new(ProposedValue::Yes);
        let mut missing = Vec::new();
        for d in &docs {
            let label = format!("{}（{}）", d.system, d.document.as_str().to_uppercase());
            p.evidence.push(row_ref::<MdsSds>(facts, d.id, format!("MDS/SDS: {label}")));
            if d.received_on.is_none() {
                missing.push(label);
            }
        }
        if !missing.is_empty() {
            p = p.reason(format!("受領日が記録されていない MDS/SDS があります: {}", names(&missing)));
        }
        let received_from: BTreeSet<RecordId> =
            docs.iter().filter(|d| d.received_on.is_some()).filter_map(|d| d.vendor_id).collect();
        let mut lacking = Vec::new();
        for c in &contracts {
            if !received_from.contains(&c.vendor_id) {
                let vendor = vendors.get(&c.vendor_id).cloned().unwrap_or_else(|| c.vendor_id.to_string());
                p.evidence.push(row_ref::<Contract>(facts, c.id, format!("契約: {vendor} {}", c.title)));
                lacking.push(format!("{vendor}（{}）", c.title));
            }
        }
        if !lacking.is_empty() {
            p = p.reason(format!(
                "次の契約の事業者から MDS/SDS を受け取った記録がありません。提出を依頼してください: {}",
                names(&lacking)
            ));
        }
        if missing.is_empty() && lacking.is_empty() {
            p = p.reason(format!(
                "契約している事業者{}社すべてから MDS/SDS を受け取っています（{}件）。",
                contracts.iter().map(|c| c.vendor_id).collect::<BTreeSet<_>>().len(),
                docs.len()
            ));
        } else {
            p.value = ProposedValue::No;
        }
        p
    }
}

/// Accounts on the asset class being evaluated (accounts without an asset count for every
/// class), enabled ones only.
fn enabled_accounts_for(facts: &Facts, class: Option<&str>) -> Vec<Account> {
    let asset_class: BTreeMap<RecordId, Option<&'static str>> =
        facts.records::<Asset>().into_iter().map(|a| (a.id, device_class_of(a.kind))).collect();
    facts
        .records::<Account>()
        .into_iter()
        .filter(|a| a.status == AccountStatus::Enabled)
        .filter(|a| match (class, a.asset_id) {
            (None, _) | (_, None) => true,
            (Some(c), Some(asset)) => asset_class.get(&asset).is_none_or(|ac| *ac == Some(c)),
        })
        .collect()
}

fn account_label(a: &Account) -> String {
    format!("{} / {}", a.system, a.username)
}

fn class_suffix(ctx: &RuleContext<'_>) -> String {
    ctx.device_class.map(|c| format!("（{}）", ctx.edition.device_class_label(c))).unwrap_or_default()
}

/// 管理者権限: every privileged account has a known holder. Proposes いいえ when one does
/// not; otherwise 判定不可, because the permission matrix itself is not in the ledgers.
pub struct AdminAccountsOwned;

impl Rule for AdminAccountsOwned {
    fn id(&self) -> &str {
        "ledger.admin-accounts-owned"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("access-rights")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let admins: Vec<Account> =
            enabled_accounts_for(facts, ctx.device_class).into_iter().filter(|a| a.privileged == Some(true)).collect();
        let orphans: Vec<&Account> = admins
            .iter()
            .filter(|a| match a.holder {
                AccountHolder::Person => a.person_id.is_none(),
                AccountHolder::Vendor => a.vendor_id.is_none(),
                AccountHolder::Shared | AccountHolder::Service => a.person_id.is_none() && a.vendor_id.is_none(),
            })
            .collect();
        if orphans.is_empty() {
            let mut p = Proposal::manual(format!(
                "職種ごとの権限の設定は台帳からは判定できません。権限表を確認してください{}。",
                class_suffix(ctx)
            ));
            if !admins.is_empty() {
                p = p.reason(format!(
                    "管理者権限を持つ有効なアカウント{}件には、持ち主が記録されています。",
                    admins.len()
                ));
            }
            return p.with_evidence(admins.iter().map(|a| row_ref::<Account>(facts, a.id, account_label(a))));
        }
        Proposal::new(ProposedValue::No)
            .reason(format!(
                "管理者権限を持つのに持ち主（職員または事業者）が分からないアカウントがあります{}: {}",
                class_suffix(ctx),
                names(&orphans.iter().map(|a| account_label(a)).collect::<Vec<_>>())
            ))
            .with_evidence(orphans.iter().map(|a| row_ref::<Account>(facts, a.id, account_label(a))))
    }
}

/// 不要アカウント: no enabled account of a retired person. Accounts unused for a year are
/// listed for a person to judge.
pub struct NoAccountsOfRetiredStaff;

impl Rule for NoAccountsOfRetiredStaff {
    fn id(&self) -> &str {
        "ledger.retired-staff-accounts"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("unneeded-accounts")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        if facts.rows(RecordKind::Accounts).is_empty() {
            return Proposal::manual(
                "アカウント台帳が空です。各システムのアカウントを登録すると、退職者のアカウントを自動で確認できます。",
            );
        }
        if facts.rows(RecordKind::Staff).is_empty() {
            return Proposal::manual(
                "職員名簿が空です。退職日を含む職員名簿を登録すると、退職者のアカウントを自動で確認できます。",
            );
        }
        let people: BTreeMap<RecordId, Person> = facts.records::<Person>().into_iter().map(|p| (p.id, p)).collect();
        let accounts = enabled_accounts_for(facts, ctx.device_class);
        let mut p = Proposal::new(ProposedValue::Yes);
        let mut retired = Vec::new();
        for a in &accounts {
            let Some(person) = a.person_id.and_then(|id| people.get(&id)) else { continue };
            if let Some(day) = person.retired_on.filter(|d| *d <= facts.as_of) {
                retired.push(format!("{}さん（{}、{}退職）", person.name, account_label(a), dates::format(day)));
                p.evidence.push(row_ref::<Account>(facts, a.id, format!("アカウント: {}", account_label(a))));
                p.evidence.push(row_ref::<Person>(facts, person.id, format!("職員名簿: {}", person.name)));
            }
        }
        if !retired.is_empty() {
            p.value = ProposedValue::No;
            return p.reason(format!(
                "退職した人のアカウントが有効のまま残っています{}。無効化または削除してください: {}",
                class_suffix(ctx),
                names(&retired)
            ));
        }
        p = p
            .reason(format!(
                "有効なアカウント{}件に、退職した職員のものはありません{}。",
                accounts.len(),
                class_suffix(ctx)
            ))
            .with_evidence([
                ledger_ref(facts, RecordKind::Accounts, "アカウント台帳"),
                ledger_ref(facts, RecordKind::Staff, "職員名簿"),
            ]);
        let limit = facts.as_of - time::Duration::days(DORMANT_DAYS);
        let dormant: Vec<String> =
            accounts.iter().filter(|a| a.last_login_at.is_some_and(|t| t.date() < limit)).map(account_label).collect();
        if !dormant.is_empty() {
            p.value = ProposedValue::Manual;
            p = p.reason(format!(
                "1年以上ログインしていない有効なアカウントがあります。不要なら削除してください: {}",
                names(&dormant)
            ));
        }
        p
    }
}

/// 二要素認証: every enabled account used by people (not service accounts) has `mfa`.
pub struct TwoFactorOnAccounts;

impl Rule for TwoFactorOnAccounts {
    fn id(&self) -> &str {
        "ledger.two-factor"
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic("two-factor")
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let accounts: Vec<Account> = enabled_accounts_for(facts, ctx.device_class)
            .into_iter()
            .filter(|a| a.holder != AccountHolder::Service)
            .collect();
        if accounts.is_empty() {
            return Proposal::manual(
                "アカウント台帳に有効なアカウントがありません。二要素認証の有無を確認してください。",
            );
        }
        let without: Vec<&Account> = accounts.iter().filter(|a| a.mfa == Some(false)).collect();
        let unknown: Vec<&Account> = accounts.iter().filter(|a| a.mfa.is_none()).collect();
        let deadline = ctx.edition.deadline_for(ctx.item);
        if !without.is_empty() {
            let mut systems: Vec<String> = without.iter().map(|a| a.system.clone()).collect();
            systems.dedup();
            return Proposal::new(ProposedValue::No)
                .reason(format!(
                    "二要素認証を使っていないアカウントが{}件あります（システム: {}）。{}までの導入を計画し、目標日を記入してください。",
                    without.len(),
                    names(&systems),
                    deadline.label_ja
                ))
                .with_evidence(without.iter().map(|a| row_ref::<Account>(facts, a.id, account_label(a))));
        }
        if !unknown.is_empty() {
            return Proposal::manual(format!(
                "{}件のアカウントで二要素認証の有無が記録されていません。アカウント台帳に記録してください: {}",
                unknown.len(),
                names(&unknown.iter().map(|a| account_label(a)).collect::<Vec<_>>())
            ))
            .with_evidence(unknown.iter().map(|a| row_ref::<Account>(facts, a.id, account_label(a))));
        }
        Proposal::new(ProposedValue::Yes)
            .reason(format!("有効なアカウント{}件すべてで二要素認証を使っています。", accounts.len()))
            .with_evidence([ledger_ref(facts, RecordKind::Accounts, "アカウント台帳")])
    }
}

fn document_ref(d: &Document) -> EvidenceRef {
    let reviewed = d.reviewed_on.map(|r| format!("（見直し日 {}）", dates::format(r))).unwrap_or_default();
    EvidenceRef::new(EvidenceKind::Document, d.id.clone(), format!("{}: {}{reviewed}", d.kind.label_ja(), d.title))
        .observed(d.registered_at)
}

/// 連絡体制図 / BCP / 規程: the document is registered and was reviewed within the year.
pub struct DocumentReviewed {
    pub id: &'static str,
    pub topic: &'static str,
    pub kind: DocumentKind,
}

impl Rule for DocumentReviewed {
    fn id(&self) -> &str {
        self.id
    }
    fn targets(&self) -> Vec<RuleTarget> {
        topic(self.topic)
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal {
        let facts = ctx.facts;
        let what = self.kind.label_ja();
        let docs: Vec<&Document> = facts.documents.iter().filter(|d| d.kind == self.kind).collect();
        if docs.is_empty() {
            return Proposal::new(ProposedValue::No).reason(format!(
                "{what}が mamori に登録されていません。作成済みの場合は文書として登録し、まだなら作成してください。"
            ));
        }
        let evidence = docs.iter().map(|d| document_ref(d));
        let newest = docs.iter().filter_map(|d| d.reviewed_on).max();
        match newest {
            Some(r) if r >= year_ago(facts) && r <= facts.as_of => Proposal::new(ProposedValue::Yes)
                .reason(format!("{what}が登録され、{}に見直されています（1年以内）。", dates::format(r)))
                .with_evidence(evidence),
            Some(r) if r > facts.as_of => Proposal::manual(format!(
                "{what}の見直し日 {} が基準日より後になっています。日付を確認してください。",
                dates::format(r)
            ))
            .with_evidence(evidence),
            Some(r) => Proposal::new(ProposedValue::No)
                .reason(format!(
                    "{what}の最後の見直しは{}で、1年以上前です。内容（連絡先や担当者）を見直し、見直し日を登録してください。",
                    dates::format(r)
                ))
                .with_evidence(evidence),
            None => Proposal::new(ProposedValue::No)
                .reason(format!("{what}は登録されていますが、見直し日が記録されていません。見直して日付を登録してください。"))
                .with_evidence(evidence),
        }
    }
}
