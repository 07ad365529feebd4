//! Checklist editions as data: one file per fiscal year (`editions/fy2024.toml`,
//! `editions/fy2025.toml`), embedded in the binary and also loadable at run time, so a new
//! year's checklist is a new data file, not new code.
//!
//! This module only parses, expands and validates definitions. It does no I/O except in
//! [`Edition::load_file`].
//!
//! # File format (TOML, `schema = 1`)
//!
//! ```toml
//! schema = 1
//! id = "fy2025"                       # unique, no spaces
//! fiscal_year = 2025                  # 年度: April to March
//! label_ja = "令和7年度版"
//! title_ja = "医療機関におけるサイバーセキュリティ対策チェックリスト"
//! period = { start = "2025-04-01", end = "2026-03-31" }   # must be the fiscal year
//! published = "2025-05-16"            # optional
//! confirmed_on_label_ja = "確認日"    # header of the confirmation-date column
//! target_date_label_ja = "目標日"
//! instructions_ja = "…"               # the sentence printed on the form (optional)
//! instructions_status = "draft-verbatim"
//!
//! [[device_classes]]                  # the classes items may name
//! id = "server"
//! label_ja = "サーバ"
//!
//! [deadlines.default]                 # required; the 目標日 limit of every item
//! label_ja = "令和7年度中"
//! by = "2026-03-31"
//! status = "draft-verbatim"
//! [deadlines.two-factor]              # items may name another deadline
//! label_ja = "令和9年度"
//! by = "2028-03-31"
//! status = "unconfirmed"
//!
//! [[forms]]
//! id = "clinic"                       # free string: clinic, pharmacy, vendor, clinic-pharmacy…
//! title_ja = "医療機関確認用"
//! respondent = "institution"          # or "vendor" (事業者確認用)
//! # items_from = "clinic"             # copy the sections of another form of this edition
//! # structure_status = "unconfirmed" # how sure we are that the form has these items
//!
//! [[forms.sections]]
//! no = "2"                            # omitted for the unnumbered 医療情報システムの有無 block
//! title_ja = "医療情報システムの管理・運用"
//! title_status = "draft-verbatim"
//!
//! [[forms.sections.items]]
//! id = "2-⑫"                          # exactly as printed on the form
//! id_status = "draft-verbatim"
//! topic = "unneeded-services"         # mamori's subject key: guidance and rules attach here
//! text_ja = "…"                       # official wording, only when it was seen
//! text_status = "draft-verbatim"
//! # candidate_ja / candidate_basis    # wording shown as 「文言未確認」 when text_ja is absent
//! # text_partial_ja                   # the part of the wording that was seen
//! # subject_ja                        # the subject, when not even a candidate exists
//! device_classes = ["server", "terminal_pc"]
//! per_device_class = true             # one answer per listed class
//! # deadline = "two-factor"           # key of [deadlines]; "default" when absent
//! # gate = true                       # いいえ makes the rest of the form 確認不要
//! ```
//!
//! Status values ([`Certainty`]): `verbatim`, `draft-verbatim`, `earlier-edition`,
//! `secondary`, `partial`, `inferred`, `unconfirmed`.

use crate::dates;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use time::{Date, Month};

/// The edition file format this code reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The deadline every item has unless it names another.
pub const DEFAULT_DEADLINE: &str = "default";

/// Well-known device class ids used by the shipped editions and the rules.
pub mod device_class {
    /// 医療情報システム全般: the item is asked once for the whole estate.
    pub const ALL: &str = "all";
    pub const SERVER: &str = "server";
    pub const TERMINAL_PC: &str = "terminal_pc";
    pub const NETWORK_DEVICE: &str = "network_device";
}

const FY2024: &str = include_str!("../editions/fy2024.toml");
const FY2025: &str = include_str!("../editions/fy2025.toml");
const GUIDANCE: &str = include_str!("../editions/guidance.toml");

/// How sure mamori is that a text, number or layout is what the official form prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certainty {
    /// Seen on the official document of this edition (or imported from its official XLSX).
    Verbatim,
    /// Seen on a draft of this edition; the final text may differ slightly.
    DraftVerbatim,
    /// Seen on an earlier edition that this one is believed to keep unchanged.
    EarlierEdition,
    /// Quoted by a secondary source (a blog, a summary), not seen on an MHLW copy.
    Secondary,
    /// Only the beginning was seen.
    Partial,
    /// Deduced from ordering or elimination.
    Inferred,
    /// Not seen.
    Unconfirmed,
}

impl Certainty {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verbatim => "verbatim",
            Self::DraftVerbatim => "draft-verbatim",
            Self::EarlierEdition => "earlier-edition",
            Self::Secondary => "secondary",
            Self::Partial => "partial",
            Self::Inferred => "inferred",
            Self::Unconfirmed => "unconfirmed",
        }
    }

    /// The text was seen somewhere (it may be shown as the item's wording).
    pub fn is_seen(self) -> bool {
        matches!(self, Self::Verbatim | Self::DraftVerbatim | Self::EarlierEdition | Self::Secondary)
    }

    /// Seen on the official document itself.
    pub fn is_official(self) -> bool {
        self == Self::Verbatim
    }

    /// The short caveat printed next to the text (UI and exports), `None` when official.
    pub fn caveat_ja(self) -> Option<&'static str> {
        match self {
            Self::Verbatim => None,
            Self::DraftVerbatim => Some("案の文言（最終版と異なる可能性があります）"),
            Self::EarlierEdition => Some("前年度までの文言（今年度は未確認）"),
            Self::Secondary => Some("二次資料による文言"),
            Self::Partial => Some("文言未確認（冒頭のみ確認）"),
            Self::Inferred => Some("推定"),
            Self::Unconfirmed => Some("文言未確認"),
        }
    }
}

/// Who fills a form in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Respondent {
    /// The 医療機関 or 薬局 itself (医療機関確認用, 薬局確認用, 医療機関・薬局確認用).
    Institution,
    /// A contracted vendor (事業者確認用), one per vendor or system.
    Vendor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    #[serde(with = "dates")]
    pub start: Date,
    #[serde(with = "dates")]
    pub end: Date,
}

impl Period {
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }

    /// The Japanese fiscal year `fy`: 1 April to 31 March.
    pub fn fiscal_year(fy: i32) -> Option<Self> {
        Some(Self {
            start: Date::from_calendar_date(fy, Month::April, 1).ok()?,
            end: Date::from_calendar_date(fy + 1, Month::March, 31).ok()?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClass {
    pub id: String,
    pub label_ja: String,
}

/// A limit for 目標日.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub label_ja: String,
    #[serde(with = "dates")]
    pub by: Date,
    pub status: Certainty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Plain-Japanese guidance for a clinic manager without IT knowledge (mamori's words, not
/// MHLW's), from `editions/guidance.toml` by topic unless the item carries its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guidance {
    pub title_ja: String,
    /// What the item asks, in plain words.
    pub meaning_ja: String,
    /// What to look at before answering.
    #[serde(default)]
    pub check_ja: Vec<String>,
    /// Concrete next steps when the answer is いいえ.
    #[serde(default)]
    pub if_no_ja: Vec<String>,
    /// Who to ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask_ja: Option<String>,
    /// What a vendor filling 事業者確認用 is expected to check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_check_ja: Option<String>,
}

/// One question of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Exactly as printed on the form ("2-⑦", "1-(1)").
    pub id: String,
    pub id_status: Certainty,
    /// mamori's subject key ("asset-ledger", "two-factor"…): guidance and rules attach to it,
    /// and it survives renumbering between editions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The official wording, only when it was seen ([`Item::text_status`] says where).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_ja: Option<String>,
    pub text_status: Certainty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_partial_ja: Option<String>,
    /// Wording to show when `text_ja` is absent, always marked 「文言未確認」.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_ja: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_basis: Option<String>,
    /// The subject, when not even a candidate wording exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_ja: Option<String>,
    /// A note printed with the item (※…) or known about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Device classes the item names (its printed scope). Empty: an organisational item.
    #[serde(default)]
    pub device_classes: Vec<String>,
    /// `None`: as sure as the wording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_classes_status: Option<Certainty>,
    /// One answer per listed device class instead of one for the item.
    #[serde(default)]
    pub per_device_class: bool,
    /// Key of [`Edition::deadlines`]; `None` is [`DEFAULT_DEADLINE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// いいえ here makes the rest of the form 確認不要 (医療情報システムの有無).
    #[serde(default)]
    pub gate: bool,
    #[serde(default)]
    pub evidence_hints: Vec<String>,
    /// Source keys of the reference notes.
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<Guidance>,
}

impl Item {
    /// The text to show: the official wording, else the candidate, else the part seen, else
    /// the subject. Check [`Item::wording_confirmed`] before presenting it as official.
    pub fn display_text(&self) -> &str {
        self.text_ja
            .as_deref()
            .or(self.candidate_ja.as_deref())
            .or(self.text_partial_ja.as_deref())
            .or(self.subject_ja.as_deref())
            .unwrap_or(&self.id)
    }

    /// Whether `text_ja` holds wording that was seen.
    pub fn wording_confirmed(&self) -> bool {
        self.text_ja.is_some() && self.text_status.is_seen()
    }

    /// The caveat to print next to the text (「文言未確認」 and the like).
    pub fn wording_caveat_ja(&self) -> Option<&'static str> {
        if self.text_ja.is_none() {
            Some(if self.text_status == Certainty::Partial {
                "文言未確認（冒頭のみ確認）"
            } else {
                "文言未確認"
            })
        } else {
            self.text_status.caveat_ja()
        }
    }

    pub fn deadline_key(&self) -> &str {
        self.deadline.as_deref().unwrap_or(DEFAULT_DEADLINE)
    }

    /// The answer slots: one per device class when answered per class, else one (`None`).
    pub fn answer_slots(&self) -> Vec<Option<&str>> {
        if self.per_device_class { self.device_classes.iter().map(|c| Some(c.as_str())).collect() } else { vec![None] }
    }

    pub fn device_classes_certainty(&self) -> Certainty {
        self.device_classes_status.unwrap_or(self.text_status)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// "1", "2"…; `None` for the unnumbered 医療情報システムの有無 block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_status: Option<Certainty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_ja: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_candidate_ja: Option<String>,
    pub title_status: Certainty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub items: Vec<Item>,
}

impl Section {
    /// "2 医療情報システムの管理・運用"; candidates are marked.
    pub fn display_title(&self) -> String {
        let title = match (&self.title_ja, &self.title_candidate_ja) {
            (Some(t), _) => t.clone(),
            (None, Some(c)) => format!("{c}（題名未確認）"),
            (None, None) => String::new(),
        };
        match &self.no {
            Some(no) if title.is_empty() => no.clone(),
            Some(no) => format!("{no} {title}"),
            None => title,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// Free string: "clinic", "pharmacy", "vendor", "clinic-pharmacy"…
    pub id: String,
    pub title_ja: String,
    pub respondent: Respondent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_by_ja: Option<String>,
    /// In the file: copy the sections of this form. Kept after loading to say where the items
    /// came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_from: Option<String>,
    /// How sure we are that the form has exactly these items; `None`: as seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structure_status: Option<Certainty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub sections: Vec<Section>,
}

impl Form {
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.sections.iter().flat_map(|s| s.items.iter())
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().find(|i| i.id == id)
    }

    /// The section an item belongs to.
    pub fn section_of(&self, item_id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.items.iter().any(|i| i.id == item_id))
    }
}

fn default_confirmed_label() -> String {
    "確認日".into()
}
fn default_target_label() -> String {
    "目標日".into()
}
fn verbatim() -> Certainty {
    Certainty::Verbatim
}

/// One fiscal year's checklist with all its forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edition {
    pub schema: u32,
    pub id: String,
    pub fiscal_year: i32,
    pub label_ja: String,
    pub title_ja: String,
    pub period: Period,
    #[serde(default, with = "dates::option", skip_serializing_if = "Option::is_none")]
    pub published: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_basis: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default = "default_confirmed_label")]
    pub confirmed_on_label_ja: String,
    #[serde(default = "verbatim")]
    pub confirmed_on_label_status: Certainty,
    #[serde(default = "default_target_label")]
    pub target_date_label_ja: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_ja: Option<String>,
    #[serde(default = "verbatim")]
    pub instructions_status: Certainty,
    pub device_classes: Vec<DeviceClass>,
    pub deadlines: BTreeMap<String, Deadline>,
    pub forms: Vec<Form>,
}

impl Edition {
    /// Parses, expands (`items_from`, guidance by topic) and validates an edition file.
    pub fn from_toml_str(text: &str) -> Result<Self, DefinitionError> {
        let edition: Edition = basic_toml::from_str(text).map_err(|e| DefinitionError::syntax(e.to_string()))?;
        edition.prepared()
    }

    /// Reads an edition stored as JSON ([`Edition::to_json`]), e.g. one imported from XLSX.
    pub fn from_json_str(text: &str) -> Result<Self, DefinitionError> {
        let edition: Edition = serde_json::from_str(text).map_err(|e| DefinitionError::syntax(e.to_string()))?;
        edition.prepared()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads an edition file (TOML, or JSON when the name ends in `.json`).
    pub fn load_file(path: &Path) -> Result<Self, DefinitionError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DefinitionError::Io { path: path.display().to_string(), detail: e.to_string() })?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            Self::from_json_str(&text)
        } else {
            Self::from_toml_str(&text)
        }
    }

    /// Expands `items_from`, attaches guidance and validates. Public so a caller that built an
    /// edition in code (the XLSX import) goes through the same checks.
    pub fn prepared(mut self) -> Result<Self, DefinitionError> {
        self.expand_items_from()?;
        let catalogue = guidance_catalogue();
        for form in &mut self.forms {
            for item in form.sections.iter_mut().flat_map(|s| s.items.iter_mut()) {
                if item.guidance.is_none() {
                    item.guidance = item.topic.as_ref().and_then(|t| catalogue.get(t)).cloned();
                }
            }
        }
        self.validate()?;
        Ok(self)
    }

    fn expand_items_from(&mut self) -> Result<(), DefinitionError> {
        let originals = self.forms.clone();
        for form in &mut self.forms {
            let Some(from) = form.items_from.clone() else { continue };
            if !form.sections.is_empty() {
                continue; // already expanded (a stored edition)
            }
            let source = originals
                .iter()
                .find(|f| f.id == from && f.items_from.is_none())
                .ok_or_else(|| DefinitionError::UnknownFormReference { form: form.id.clone(), items_from: from })?;
            form.sections = source.sections.clone();
        }
        Ok(())
    }

    pub fn form(&self, id: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.id == id)
    }

    pub fn device_class(&self, id: &str) -> Option<&DeviceClass> {
        self.device_classes.iter().find(|c| c.id == id)
    }

    pub fn device_class_label<'a>(&'a self, id: &'a str) -> &'a str {
        self.device_class(id).map_or(id, |c| c.label_ja.as_str())
    }

    /// The item's deadline (falls back to the default one).
    pub fn deadline_for(&self, item: &Item) -> &Deadline {
        self.deadlines
            .get(item.deadline_key())
            .or_else(|| self.deadlines.get(DEFAULT_DEADLINE))
            .expect("validated editions have a default deadline")
    }

    /// The dates a 目標日 may take for `item`: from the start of the fiscal year to the
    /// item's deadline (the end of the fiscal year unless the item has its own).
    pub fn target_window(&self, item: &Item) -> (Date, Date) {
        (self.period.start, self.deadline_for(item).by.max(self.period.start))
    }

    /// Every check a loaded edition must pass.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        use DefinitionError as E;
        if self.schema != SCHEMA_VERSION {
            return Err(E::UnsupportedSchema { found: self.schema, supported: SCHEMA_VERSION });
        }
        check_id("edition id", &self.id)?;
        if !(2000..=2100).contains(&self.fiscal_year) {
            return Err(E::InvalidDate {
                at: "fiscal_year".into(),
                detail: format!("{} is not a plausible fiscal year", self.fiscal_year),
            });
        }
        let fy = Period::fiscal_year(self.fiscal_year).expect("year in range");
        if self.period != fy {
            return Err(E::InvalidDate {
                at: "period".into(),
                detail: format!(
                    "{}..{} is not fiscal year {} ({}..{})",
                    dates::format(self.period.start),
                    dates::format(self.period.end),
                    self.fiscal_year,
                    dates::format(fy.start),
                    dates::format(fy.end)
                ),
            });
        }
        if let Some(p) = self.published
            && (p.year() < self.fiscal_year - 1 || p > self.period.end)
        {
            return Err(E::InvalidDate {
                at: "published".into(),
                detail: format!("{} is far from fiscal year {}", dates::format(p), self.fiscal_year),
            });
        }
        let mut classes = BTreeSet::new();
        for c in &self.device_classes {
            check_id("device class id", &c.id)?;
            if !classes.insert(c.id.as_str()) {
                return Err(E::Duplicate { what: "device class", id: c.id.clone(), within: self.id.clone() });
            }
        }
        let Some(default) = self.deadlines.get(DEFAULT_DEADLINE) else {
            return Err(E::MissingDefaultDeadline);
        };
        if default.by != self.period.end {
            return Err(E::InvalidDate {
                at: "deadlines.default.by".into(),
                detail: format!("{} is not the end of the fiscal year", dates::format(default.by)),
            });
        }
        for (key, d) in &self.deadlines {
            if d.by < self.period.start {
                return Err(E::InvalidDate {
                    at: format!("deadlines.{key}.by"),
                    detail: format!("{} is before the fiscal year starts", dates::format(d.by)),
                });
            }
        }
        if self.forms.is_empty() {
            return Err(E::Empty { what: "edition", id: self.id.clone() });
        }
        let mut forms = BTreeSet::new();
        for form in &self.forms {
            check_id("form id", &form.id)?;
            if !forms.insert(form.id.as_str()) {
                return Err(E::Duplicate { what: "form", id: form.id.clone(), within: self.id.clone() });
            }
            self.validate_form(form, &classes)?;
        }
        Ok(())
    }

    fn validate_form(&self, form: &Form, classes: &BTreeSet<&str>) -> Result<(), DefinitionError> {
        use DefinitionError as E;
        if form.items().next().is_none() {
            return Err(E::Empty { what: "form", id: form.id.clone() });
        }
        let mut sections = BTreeSet::new();
        let mut items = BTreeSet::new();
        for section in &form.sections {
            if let Some(no) = &section.no
                && !sections.insert(no.as_str())
            {
                return Err(E::Duplicate { what: "section", id: no.clone(), within: form.id.clone() });
            }
            if section.items.is_empty() {
                return Err(E::Empty { what: "section", id: section.display_title() });
            }
            for item in &section.items {
                check_id("item id", &item.id)?;
                if !items.insert(item.id.as_str()) {
                    return Err(E::Duplicate { what: "item", id: item.id.clone(), within: form.id.clone() });
                }
                let at = || format!("{}/{}", form.id, item.id);
                match (&item.text_ja, item.text_status.is_seen()) {
                    (Some(_), false) => {
                        return Err(E::Wording {
                            at: at(),
                            detail: format!("text_ja is set but text_status is {:?}", item.text_status.as_str()),
                        });
                    }
                    (None, true) => {
                        return Err(E::Wording {
                            at: at(),
                            detail: format!(
                                "text_status {:?} needs text_ja; use candidate_ja with \"unconfirmed\"",
                                item.text_status.as_str()
                            ),
                        });
                    }
                    _ => {}
                }
                if [&item.text_ja, &item.candidate_ja, &item.text_partial_ja, &item.subject_ja]
                    .iter()
                    .all(|t| t.as_deref().is_none_or(|t| t.trim().is_empty()))
                {
                    return Err(E::Wording {
                        at: at(),
                        detail: "no text_ja, candidate_ja, text_partial_ja or subject_ja".into(),
                    });
                }
                let mut seen = BTreeSet::new();
                for class in &item.device_classes {
                    if !classes.contains(class.as_str()) {
                        return Err(E::UnknownDeviceClass { at: at(), class: class.clone() });
                    }
                    if !seen.insert(class.as_str()) {
                        return Err(E::Duplicate { what: "device class", id: class.clone(), within: at() });
                    }
                }
                if item.per_device_class && item.device_classes.is_empty() {
                    return Err(E::UnknownDeviceClass { at: at(), class: "(per_device_class without classes)".into() });
                }
                if !self.deadlines.contains_key(item.deadline_key()) {
                    return Err(E::UnknownDeadline { at: at(), deadline: item.deadline_key().to_owned() });
                }
            }
        }
        Ok(())
    }
}

fn check_id(what: &'static str, id: &str) -> Result<(), DefinitionError> {
    if id.trim().is_empty() || id.chars().any(char::is_whitespace) {
        return Err(DefinitionError::InvalidId { what, id: id.to_owned() });
    }
    Ok(())
}

/// What is wrong with an edition definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("the edition file cannot be read: {detail}")]
    Syntax { detail: String },
    #[error("the edition file has an invalid date: {detail}")]
    BadDateSyntax { detail: String },
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
    #[error("edition schema {found} is not supported (this version reads schema {supported})")]
    UnsupportedSchema { found: u32, supported: u32 },
    #[error("invalid {what} {id:?}: it must be non-empty and contain no spaces")]
    InvalidId { what: &'static str, id: String },
    #[error("{at}: {detail}")]
    InvalidDate { at: String, detail: String },
    #[error("the edition has no [deadlines.default]")]
    MissingDefaultDeadline,
    #[error("duplicate {what} {id:?} in {within}")]
    Duplicate { what: &'static str, id: String, within: String },
    #[error("{what} {id:?} has no items")]
    Empty { what: &'static str, id: String },
    #[error("form {form:?}: items_from {items_from:?} names no form with its own items")]
    UnknownFormReference { form: String, items_from: String },
    #[error("{at}: unknown device class {class:?}")]
    UnknownDeviceClass { at: String, class: String },
    #[error("{at}: unknown deadline {deadline:?}")]
    UnknownDeadline { at: String, deadline: String },
    #[error("{at}: {detail}")]
    Wording { at: String, detail: String },
}

impl DefinitionError {
    fn syntax(detail: String) -> Self {
        if detail.contains(dates::BAD_DATE) { Self::BadDateSyntax { detail } } else { Self::Syntax { detail } }
    }

    /// A stable code for the API and the message catalogue.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Syntax { .. } => "checklist-definition-syntax",
            Self::BadDateSyntax { .. } | Self::InvalidDate { .. } => "checklist-definition-invalid-date",
            Self::Io { .. } => "checklist-definition-io",
            Self::UnsupportedSchema { .. } => "checklist-definition-schema",
            Self::InvalidId { .. } => "checklist-definition-invalid-id",
            Self::MissingDefaultDeadline => "checklist-definition-no-default-deadline",
            Self::Duplicate { what: "item", .. } => "checklist-definition-duplicate-item-id",
            Self::Duplicate { .. } => "checklist-definition-duplicate",
            Self::Empty { .. } => "checklist-definition-empty",
            Self::UnknownFormReference { .. } => "checklist-definition-unknown-form",
            Self::UnknownDeviceClass { .. } => "checklist-definition-unknown-device-class",
            Self::UnknownDeadline { .. } => "checklist-definition-unknown-deadline",
            Self::Wording { .. } => "checklist-definition-wording",
        }
    }
}

#[derive(Deserialize)]
struct GuidanceFile {
    topics: BTreeMap<String, Guidance>,
}

/// mamori's plain-Japanese guidance per topic (`editions/guidance.toml`).
pub fn guidance_catalogue() -> &'static BTreeMap<String, Guidance> {
    static CATALOGUE: OnceLock<BTreeMap<String, Guidance>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        basic_toml::from_str::<GuidanceFile>(GUIDANCE).expect("editions/guidance.toml is valid (tested)").topics
    })
}

/// The editions shipped with mamori, oldest first.
pub fn builtin_editions() -> &'static [Edition] {
    static EDITIONS: OnceLock<Vec<Edition>> = OnceLock::new();
    EDITIONS.get_or_init(|| {
        [FY2024, FY2025]
            .into_iter()
            .map(|text| Edition::from_toml_str(text).expect("shipped editions are valid (tested)"))
            .collect()
    })
}

/// The shipped edition of a fiscal year.
pub fn builtin_edition(fiscal_year: i32) -> Option<&'static Edition> {
    builtin_editions().iter().find(|e| e.fiscal_year == fiscal_year)
}

/// The raw text of the shipped edition files, for `mamori checklist edition show --raw` and
/// as templates for a new year.
pub fn builtin_edition_sources() -> [(&'static str, &'static str); 2] {
    [("fy2024.toml", FY2024), ("fy2025.toml", FY2025)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
schema = 1
id = "fy2026"
fiscal_year = 2026
label_ja = "令和8年度版"
title_ja = "医療機関・薬局におけるサイバーセキュリティ対策チェックリスト"
period = { start = "2026-04-01", end = "2027-03-31" }

[[device_classes]]
id = "server"
label_ja = "サーバ"

[deadlines.default]
label_ja = "令和8年度中"
by = "2027-03-31"
status = "unconfirmed"

[[forms]]
id = "clinic-pharmacy"
title_ja = "医療機関・薬局確認用"
respondent = "institution"

[[forms.sections]]
no = "1"
title_ja = "体制構築"
title_status = "unconfirmed"

[[forms.sections.items]]
id = "1-①"
id_status = "unconfirmed"
topic = "security-officer"
candidate_ja = "医療情報システム安全管理責任者を設置している。"
text_status = "unconfirmed"

[[forms.sections.items]]
id = "1-②"
id_status = "unconfirmed"
subject_ja = "サーバの何か"
text_status = "unconfirmed"
device_classes = ["server"]
per_device_class = true
"#;

    #[test]
    fn a_new_year_with_a_merged_form_is_just_data() {
        let e = Edition::from_toml_str(MINIMAL).unwrap();
        let form = e.form("clinic-pharmacy").unwrap();
        assert_eq!(form.title_ja, "医療機関・薬局確認用");
        let item = form.item("1-①").unwrap();
        assert_eq!(item.guidance.as_ref().unwrap().title_ja, "医療情報システム安全管理責任者");
        assert_eq!(item.wording_caveat_ja(), Some("文言未確認"));
        assert_eq!(form.item("1-②").unwrap().answer_slots(), vec![Some("server")]);
        // A stored edition reads back the same through JSON.
        assert_eq!(Edition::from_json_str(&e.to_json()).unwrap(), e);
    }

    fn broken(from: &str, to: &str) -> DefinitionError {
        assert!(MINIMAL.contains(from), "{from}");
        Edition::from_toml_str(&MINIMAL.replacen(from, to, 1)).unwrap_err()
    }

    #[test]
    fn validation_errors_have_stable_codes() {
        let cases = [
            (r#"id = "1-②""#, r#"id = "1-①""#, "checklist-definition-duplicate-item-id"),
            (
                r#"device_classes = ["server"]"#,
                r#"device_classes = ["printer"]"#,
                "checklist-definition-unknown-device-class",
            ),
            (r#"start = "2026-04-01""#, r#"start = "2026-04-02""#, "checklist-definition-invalid-date"),
            (r#"end = "2027-03-31" }"#, r#"end = "2027-02-30" }"#, "checklist-definition-invalid-date"),
            (r#"schema = 1"#, r#"schema = 2"#, "checklist-definition-schema"),
            (r#"[deadlines.default]"#, r#"[deadlines.other]"#, "checklist-definition-no-default-deadline"),
            (r#"subject_ja = "サーバの何か""#, r#"text_ja = "x""#, "checklist-definition-wording"),
            (r#"id = "clinic-pharmacy""#, r#"id = "clinic pharmacy""#, "checklist-definition-invalid-id"),
            (r#"title_ja = "体制構築""#, r#"title_ja = "体制構築" = 3"#, "checklist-definition-syntax"),
        ];
        for (from, to, code) in cases {
            let err = broken(from, to);
            assert_eq!(err.code(), code, "{from} -> {to}: {err}");
        }
        let err = broken(r#"id = "1-②""#, r#"id = "1-①""#);
        assert!(err.to_string().contains("1-①") && err.to_string().contains("clinic-pharmacy"), "{err}");
    }

    #[test]
    fn items_from_must_name_a_form() {
        let text = format!(
            "{MINIMAL}\n[[forms]]\nid = \"vendor\"\ntitle_ja = \"事業者確認用\"\nrespondent = \"vendor\"\nitems_from = \"nope\"\n"
        );
        assert_eq!(Edition::from_toml_str(&text).unwrap_err().code(), "checklist-definition-unknown-form");
    }

    #[test]
    fn guidance_covers_every_shipped_topic() {
        let catalogue = guidance_catalogue();
        for e in builtin_editions() {
            for form in &e.forms {
                for item in form.items() {
                    let topic = item.topic.as_deref().unwrap_or_else(|| panic!("{}/{} has no topic", e.id, item.id));
                    assert!(catalogue.contains_key(topic), "{topic}");
                    let g = item.guidance.as_ref().unwrap();
                    assert!(!g.if_no_ja.is_empty() && !g.check_ja.is_empty(), "{topic}");
                }
            }
        }
    }
}
