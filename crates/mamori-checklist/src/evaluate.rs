//! The evaluator: rules propose an answer for each item from facts, with the evidence they
//! used and the reasons in plain Japanese. A person confirms or overrides each proposal.
//!
//! Plug-in points for the crates that come later (scan, vulnerabilities, account audit, logs,
//! backups):
//! - [`FactProvider`] adds what a crate knows to [`Facts`] (typed, through
//!   [`Facts::insert_extension`]), so nothing here depends on those crates;
//! - [`Rule`] proposes answers. A rule names its items by topic (mamori's subject key, stable
//!   across editions and renumbering) or by exact item id, and [`rules_coverage`] reports
//!   items that no rule answers and rules that name nothing in an edition.
//!
//! The store layer fills [`Facts`]; this module does no I/O.

use crate::answer::AnswerError;
use crate::definition::{Edition, Form, Item, Respondent};
use mamori_domain::RecordId;
use mamori_domain::record::{Record, RecordKind, Row};
use serde::{Deserialize, Serialize};
use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use time::{Date, OffsetDateTime};

/// What a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A row of a ledger (機器台帳, アカウント台帳…).
    LedgerRow,
    /// A registered document (連絡体制図, BCP, 運用管理規程…).
    Document,
    /// A scan result.
    Scan,
    /// A finding of an analyser.
    Finding,
    /// An uploaded evidence file (stored with its hash).
    File,
    /// A log event.
    LogEvent,
    /// A backup run or restore test.
    BackupRun,
    /// The designated 責任者.
    Designation,
}

impl EvidenceKind {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::LedgerRow => "台帳",
            Self::Document => "文書",
            Self::Scan => "ネットワーク調査",
            Self::Finding => "検出事項",
            Self::File => "添付ファイル",
            Self::LogEvent => "ログ",
            Self::BackupRun => "バックアップ",
            Self::Designation => "責任者の登録",
        }
    }
}

/// A link from an answer or proposal to what it is based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub kind: EvidenceKind,
    /// For [`EvidenceKind::LedgerRow`]: which ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<RecordKind>,
    /// The id of the row, document, scan, finding or file.
    pub id: String,
    /// What to show (in Japanese).
    pub label: String,
    /// When it was observed or last updated.
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<OffsetDateTime>,
}

impl EvidenceRef {
    pub fn new(kind: EvidenceKind, id: impl Into<String>, label: impl Into<String>) -> Self {
        Self { kind, ledger: None, id: id.into(), label: label.into(), observed_at: None }
    }

    pub fn ledger_row(kind: RecordKind, id: RecordId, label: impl Into<String>) -> Self {
        Self {
            kind: EvidenceKind::LedgerRow,
            ledger: Some(kind),
            id: id.to_string(),
            label: label.into(),
            observed_at: None,
        }
    }

    pub fn observed(mut self, at: Option<OffsetDateTime>) -> Self {
        self.observed_at = at;
        self
    }
}

/// What a rule proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProposedValue {
    Yes,
    No,
    /// 判定不可: a person has to answer.
    Manual,
}

impl ProposedValue {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Yes => "はい",
            Self::No => "いいえ",
            Self::Manual => "判定不可",
        }
    }
}

/// A proposed answer with its reasons and evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub value: ProposedValue,
    /// Plain Japanese, one sentence each.
    pub reasons: Vec<String>,
    pub evidence: Vec<EvidenceRef>,
    /// Ids of the rules that contributed.
    pub rules: Vec<String>,
}

impl Proposal {
    pub fn new(value: ProposedValue) -> Self {
        Self { value, reasons: Vec::new(), evidence: Vec::new(), rules: Vec::new() }
    }

    pub fn manual(reason: impl Into<String>) -> Self {
        Self::new(ProposedValue::Manual).reason(reason)
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reasons.push(reason.into());
        self
    }

    pub fn with_evidence(mut self, evidence: impl IntoIterator<Item = EvidenceRef>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    /// Several rules on one item: any いいえ wins, then any はい; 判定不可 only when no rule
    /// could decide (a rule without data must not block one that has it).
    fn combine(parts: Vec<(String, Proposal)>) -> Proposal {
        let value = if parts.iter().any(|(_, p)| p.value == ProposedValue::No) {
            ProposedValue::No
        } else if parts.iter().any(|(_, p)| p.value == ProposedValue::Yes) {
            ProposedValue::Yes
        } else {
            ProposedValue::Manual
        };
        let mut out = Proposal::new(value);
        for (id, p) in parts {
            out.rules.push(id);
            out.reasons.extend(p.reasons);
            for e in p.evidence {
                if !out.evidence.contains(&e) {
                    out.evidence.push(e);
                }
            }
        }
        out
    }
}

/// 文書の種類: the documents an institution registers in mamori.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    /// 連絡体制図
    ContactChart,
    /// 事業継続計画 (BCP)
    Bcp,
    /// 運用管理規程・規程類
    OperationRules,
    /// 責任者の任命記録
    Appointment,
    /// 復旧手順
    RestoreProcedure,
    /// 事業者からの回答 (remote maintenance, 事業者確認用…)
    VendorReply,
    Other,
}

impl DocumentKind {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::ContactChart => "連絡体制図",
            Self::Bcp => "BCP（事業継続計画）",
            Self::OperationRules => "運用管理規程",
            Self::Appointment => "責任者の任命記録",
            Self::RestoreProcedure => "復旧手順",
            Self::VendorReply => "事業者からの回答",
            Self::Other => "その他の文書",
        }
    }
}

/// A document registered (uploaded) in mamori.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: String,
    pub kind: DocumentKind,
    pub title: String,
    /// The last time the institution reviewed it (見直し日).
    #[serde(default, with = "crate::dates::option", skip_serializing_if = "Option::is_none")]
    pub reviewed_on: Option<Date>,
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<OffsetDateTime>,
}

/// The designated 医療情報システム安全管理責任者.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responsible {
    pub name: String,
    /// The person in 職員名簿, when linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<RecordId>,
    #[serde(default, with = "crate::dates::option", skip_serializing_if = "Option::is_none")]
    pub designated_on: Option<Date>,
}

/// Everything the rules may read, as of one day. The store layer fills it; plug-ins add
/// their own typed facts as extensions.
pub struct Facts {
    /// The day the proposals are for (today, or the inspection day).
    pub as_of: Date,
    ledgers: BTreeMap<RecordKind, Vec<Row>>,
    /// When each ledger was last changed (import or edit).
    pub ledger_updated_at: BTreeMap<RecordKind, OffsetDateTime>,
    pub documents: Vec<Document>,
    pub responsible: Option<Responsible>,
    extensions: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Facts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Facts")
            .field("as_of", &self.as_of)
            .field("ledgers", &self.ledgers.iter().map(|(k, v)| (k.as_str(), v.len())).collect::<Vec<_>>())
            .field("ledger_updated_at", &self.ledger_updated_at)
            .field("documents", &self.documents.len())
            .field("responsible", &self.responsible.as_ref().map(|r| &r.name))
            .field("extensions", &self.extensions.len())
            .finish()
    }
}

impl Facts {
    pub fn new(as_of: Date) -> Self {
        Self {
            as_of,
            ledgers: BTreeMap::new(),
            ledger_updated_at: BTreeMap::new(),
            documents: Vec::new(),
            responsible: None,
            extensions: HashMap::new(),
        }
    }

    /// Sets the rows of one ledger (rows of another kind are ignored) and when it was last
    /// updated.
    pub fn set_ledger(&mut self, kind: RecordKind, rows: Vec<Row>, updated_at: Option<OffsetDateTime>) {
        self.ledgers.insert(kind, rows.into_iter().filter(|r| r.kind == kind).collect());
        match updated_at {
            Some(t) => self.ledger_updated_at.insert(kind, t),
            None => self.ledger_updated_at.remove(&kind),
        };
    }

    pub fn rows(&self, kind: RecordKind) -> &[Row] {
        self.ledgers.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// The typed records of a ledger. Rows that do not convert (the store validates them on
    /// write, so this is rare) are skipped.
    pub fn records<R: Record>(&self) -> Vec<R> {
        self.rows(R::KIND).iter().filter_map(|r| R::from_row(r).ok()).collect()
    }

    pub fn updated_at(&self, kind: RecordKind) -> Option<OffsetDateTime> {
        self.ledger_updated_at.get(&kind).copied()
    }

    /// Adds a plug-in's typed facts (one value per type).
    pub fn insert_extension<T: Any + Send + Sync>(&mut self, value: T) {
        self.extensions.insert(TypeId::of::<T>(), Box::new(value));
    }

    pub fn extension<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.extensions.get(&TypeId::of::<T>()).and_then(|b| b.downcast_ref())
    }

    /// Lets each provider add what it knows.
    pub fn provide(&mut self, providers: &[&dyn FactProvider]) {
        for p in providers {
            p.provide(self);
        }
    }
}

/// A plug-in that contributes facts (a scan summary, vulnerability findings, backup runs…).
pub trait FactProvider {
    fn id(&self) -> &str;
    fn provide(&self, facts: &mut Facts);
}

/// What a rule answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "by", content = "value")]
pub enum RuleTarget {
    /// Every item with this topic, in any edition.
    Topic(String),
    /// The item with exactly this id (as printed on the form).
    Item(String),
}

impl RuleTarget {
    fn matches(&self, item: &Item) -> bool {
        match self {
            Self::Topic(t) => item.topic.as_deref() == Some(t.as_str()),
            Self::Item(id) => item.id == *id,
        }
    }
}

impl fmt::Display for RuleTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(t) => write!(f, "topic {t}"),
            Self::Item(i) => write!(f, "item {i}"),
        }
    }
}

/// What a rule sees when it evaluates one answer slot.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    pub edition: &'a Edition,
    pub form: &'a Form,
    pub item: &'a Item,
    /// For items answered per device class: the class being evaluated.
    pub device_class: Option<&'a str>,
    pub facts: &'a Facts,
}

/// A rule that proposes answers. Implemented here for the ledgers and by later crates.
pub trait Rule: Send + Sync {
    /// Stable id, e.g. "ledger.asset-coverage".
    fn id(&self) -> &str;
    fn targets(&self) -> Vec<RuleTarget>;
    /// Whose forms the rule answers; ledger rules answer the institution's forms.
    fn respondent(&self) -> Respondent {
        Respondent::Institution
    }
    fn evaluate(&self, ctx: &RuleContext<'_>) -> Proposal;
}

/// The proposal for one answer slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemProposal {
    pub item_id: String,
    pub device_class: Option<String>,
    pub proposal: Proposal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub edition_id: String,
    pub form_id: String,
    #[serde(with = "crate::dates")]
    pub as_of: Date,
    pub proposals: Vec<ItemProposal>,
}

impl Evaluation {
    pub fn get(&self, item_id: &str, device_class: Option<&str>) -> Option<&Proposal> {
        self.proposals
            .iter()
            .find(|p| p.item_id == item_id && p.device_class.as_deref() == device_class)
            .map(|p| &p.proposal)
    }
}

/// The reason shown for items no rule answers.
pub const NO_RULE_REASON: &str =
    "この項目は mamori が自動で判定できません。説明を読んで確認し、回答と根拠（文書や写真など）を登録してください。";

/// Runs rules over a form.
#[derive(Default)]
pub struct Evaluator {
    rules: Vec<Box<dyn Rule>>,
}

impl Evaluator {
    /// No rules: every item is 判定不可.
    pub fn new() -> Self {
        Self::default()
    }

    /// The rules the ledgers can answer today ([`crate::rules::ledger_rules`]).
    pub fn with_ledger_rules() -> Self {
        Self { rules: crate::rules::ledger_rules() }
    }

    pub fn add_rule(&mut self, rule: Box<dyn Rule>) -> &mut Self {
        self.rules.push(rule);
        self
    }

    pub fn rules(&self) -> &[Box<dyn Rule>] {
        &self.rules
    }

    fn rules_for<'a>(&'a self, form: &Form, item: &Item) -> impl Iterator<Item = &'a dyn Rule> {
        let respondent = form.respondent;
        self.rules
            .iter()
            .map(|r| r.as_ref())
            .filter(move |r| r.respondent() == respondent && r.targets().iter().any(|t| t.matches(item)))
    }

    /// A proposal for every answer slot of the form.
    pub fn evaluate(&self, edition: &Edition, form_id: &str, facts: &Facts) -> Result<Evaluation, AnswerError> {
        let form = edition
            .form(form_id)
            .ok_or_else(|| AnswerError::UnknownForm { edition: edition.id.clone(), form: form_id.to_owned() })?;
        let mut proposals = Vec::new();
        for item in form.items() {
            for slot in item.answer_slots() {
                let ctx = RuleContext { edition, form, item, device_class: slot, facts };
                let parts: Vec<(String, Proposal)> =
                    self.rules_for(form, item).map(|r| (r.id().to_owned(), r.evaluate(&ctx))).collect();
                let proposal =
                    if parts.is_empty() { Proposal::manual(NO_RULE_REASON) } else { Proposal::combine(parts) };
                proposals.push(ItemProposal {
                    item_id: item.id.clone(),
                    device_class: slot.map(str::to_owned),
                    proposal,
                });
            }
        }
        Ok(Evaluation { edition_id: edition.id.clone(), form_id: form.id.clone(), as_of: facts.as_of, proposals })
    }
}

/// An item of a form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ItemRef {
    pub form: String,
    pub item_id: String,
}

/// A rule target that names nothing in the edition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct DanglingTarget {
    pub rule_id: String,
    pub target: RuleTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulesCoverage {
    /// Items answered manually because no rule names them.
    pub items_without_rule: Vec<ItemRef>,
    /// Rule targets that match no item of the edition (an imported edition renamed an item,
    /// or a rule has a typo).
    pub rules_without_item: Vec<DanglingTarget>,
}

/// Which items of an edition the rules answer, and which rule targets match nothing.
pub fn rules_coverage(edition: &Edition, rules: &[Box<dyn Rule>]) -> RulesCoverage {
    let mut items_without_rule = Vec::new();
    let mut hit: BTreeMap<(usize, usize), bool> = BTreeMap::new();
    for form in &edition.forms {
        for item in form.items() {
            let mut covered = false;
            for (ri, rule) in rules.iter().enumerate() {
                for (ti, target) in rule.targets().iter().enumerate() {
                    if target.matches(item) {
                        hit.insert((ri, ti), true);
                        covered |= rule.respondent() == form.respondent;
                    }
                }
            }
            if !covered {
                items_without_rule.push(ItemRef { form: form.id.clone(), item_id: item.id.clone() });
            }
        }
    }
    let mut rules_without_item = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        for (ti, target) in rule.targets().into_iter().enumerate() {
            if !hit.contains_key(&(ri, ti)) {
                rules_without_item.push(DanglingTarget { rule_id: rule.id().to_owned(), target });
            }
        }
    }
    RulesCoverage { items_without_rule, rules_without_item }
}
