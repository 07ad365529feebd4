//! The layout of the filled form, in one place: which row holds the title, which column holds
//! はい/いいえ, 確認日, 目標日, and the rows of the body. The XLSX export writes it; a PDF
//! renderer reads the same [`FormSheet`] and positions, so both look alike.
//!
//! Form sheet (0-based rows and columns; Excel addresses in brackets):
//! - row 0 [A1]: edition and checklist title, e.g. 「令和7年度版 医療機関におけるサイバーセキュリティ対策チェックリスト」
//! - row 1 [A2]: form title, e.g. 「医療機関確認用」
//! - row 2 [A3]: 「医療機関名」 and the name in [B3]
//! - row 3 [A4]: the form's instructions (記入方法) when the edition has them
//! - row 5 [A6..H6]: the column headers of [`COLUMNS`]
//! - row 6 onwards: [`BodyRow`]s — a section heading across A..H, or one answer slot per row.
//!   An item asked per device class takes one row per class; its id and wording cells are
//!   merged over those rows.
//!
//! Evidence appendix sheet (根拠一覧): header in row 0 ([`EVIDENCE_COLUMNS`]), one row per
//! piece of evidence (or one row per answer slot without evidence) from row 1.

use crate::answer::{Answer, AnswerValue};
use crate::definition::{Edition, Form};
use crate::evaluate::{Evaluation, EvidenceRef, ProposedValue};
use time::Date;

pub const TITLE_ROW: u32 = 0;
pub const FORM_TITLE_ROW: u32 = 1;
pub const INSTITUTION_ROW: u32 = 2;
pub const INSTRUCTIONS_ROW: u32 = 3;
pub const HEADER_ROW: u32 = 5;
pub const FIRST_BODY_ROW: u32 = 6;

/// The mark written in the はい or いいえ column (the paper form asks to circle one).
pub const MARK: &str = "○";

pub const INSTITUTION_LABEL: &str = "医療機関名";
pub const EVIDENCE_SHEET: &str = "根拠一覧";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKey {
    Id,
    Text,
    /// The device class of the row, or the item's printed scope.
    DeviceClass,
    Yes,
    No,
    ConfirmedOn,
    TargetDate,
    Note,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: ColumnKey,
    pub col: u16,
    /// Fixed header; 確認日 and 目標日 take the edition's labels instead.
    pub header_ja: &'static str,
    /// Width in Excel character units.
    pub width: f64,
}

pub const COLUMNS: [Column; 8] = [
    Column { key: ColumnKey::Id, col: 0, header_ja: "項目", width: 8.0 },
    Column { key: ColumnKey::Text, col: 1, header_ja: "確認事項", width: 60.0 },
    Column { key: ColumnKey::DeviceClass, col: 2, header_ja: "対象", width: 16.0 },
    Column { key: ColumnKey::Yes, col: 3, header_ja: "はい", width: 6.0 },
    Column { key: ColumnKey::No, col: 4, header_ja: "いいえ", width: 6.0 },
    Column { key: ColumnKey::ConfirmedOn, col: 5, header_ja: "確認日", width: 12.0 },
    Column { key: ColumnKey::TargetDate, col: 6, header_ja: "目標日", width: 12.0 },
    Column { key: ColumnKey::Note, col: 7, header_ja: "備考", width: 30.0 },
];

pub const LAST_COL: u16 = 7;

pub fn column(key: ColumnKey) -> Column {
    COLUMNS.into_iter().find(|c| c.key == key).expect("every key has a column")
}

/// The header text of a column for an edition.
pub fn header(edition: &Edition, key: ColumnKey) -> String {
    match key {
        ColumnKey::ConfirmedOn => edition.confirmed_on_label_ja.clone(),
        ColumnKey::TargetDate => edition.target_date_label_ja.clone(),
        _ => column(key).header_ja.to_owned(),
    }
}

pub const EVIDENCE_COLUMNS: [(&str, f64); 8] = [
    ("項目", 8.0),
    ("対象", 14.0),
    ("回答", 8.0),
    ("mamori の提案", 12.0),
    ("理由", 60.0),
    ("根拠の種類", 12.0),
    ("根拠", 40.0),
    ("観測日時", 20.0),
];

/// One row of the form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRow {
    Section {
        title: String,
    },
    Slot {
        item_id: String,
        /// The item's text (official wording, or the candidate when unconfirmed).
        text: String,
        /// 「文言未確認」 and the like.
        caveat: Option<&'static str>,
        /// The note printed with the item (※…).
        item_note: Option<String>,
        device_class: Option<String>,
        /// What the 対象 column shows.
        scope_label: Option<String>,
        value: AnswerValue,
        confirmed_on: Option<Date>,
        /// Only for いいえ.
        target_date: Option<Date>,
        answer_note: Option<String>,
        /// First slot of the item (the one that carries id and text when merged).
        first_of_item: bool,
        /// How many slots the item has (rows to merge).
        slots_of_item: u32,
    },
}

/// The body of a form filled with answers.
pub fn body_rows(edition: &Edition, form: &Form, answers: &[Answer]) -> Vec<BodyRow> {
    let mut rows = Vec::new();
    for section in &form.sections {
        rows.push(BodyRow::Section { title: section.display_title() });
        for item in &section.items {
            let slots = item.answer_slots();
            let n = slots.len() as u32;
            for (i, slot) in slots.into_iter().enumerate() {
                let answer = answers.iter().find(|a| a.item_id == item.id && a.device_class.as_deref() == slot);
                let value = answer.map_or(AnswerValue::Unanswered, |a| a.value);
                let scope_label = match slot {
                    Some(c) => Some(edition.device_class_label(c).to_owned()),
                    None if !item.device_classes.is_empty() => Some(
                        item.device_classes
                            .iter()
                            .map(|c| edition.device_class_label(c))
                            .collect::<Vec<_>>()
                            .join("、"),
                    ),
                    None => None,
                };
                rows.push(BodyRow::Slot {
                    item_id: item.id.clone(),
                    text: item.display_text().to_owned(),
                    caveat: item.wording_caveat_ja(),
                    item_note: item.note.clone().filter(|n| n.starts_with('※')),
                    device_class: slot.map(str::to_owned),
                    scope_label,
                    value,
                    confirmed_on: answer.and_then(|a| a.confirmed_on).filter(|_| value != AnswerValue::Unanswered),
                    target_date: answer.and_then(|a| a.target_date).filter(|_| value == AnswerValue::No),
                    answer_note: answer.and_then(|a| a.note.clone()),
                    first_of_item: i == 0,
                    slots_of_item: n,
                });
            }
        }
    }
    rows
}

/// One row of the evidence appendix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    pub item_id: String,
    pub device_class_label: Option<String>,
    pub value: AnswerValue,
    pub proposed: Option<ProposedValue>,
    /// Reasons of the proposal, and the override reason when a person overrode it.
    pub reasons: String,
    pub evidence: Option<EvidenceRef>,
}

/// The evidence appendix: what each answer is based on and when it was observed.
pub fn evidence_rows(
    edition: &Edition,
    form: &Form,
    answers: &[Answer],
    evaluation: Option<&Evaluation>,
) -> Vec<EvidenceRow> {
    let mut rows = Vec::new();
    for item in form.items() {
        for slot in item.answer_slots() {
            let answer = answers.iter().find(|a| a.item_id == item.id && a.device_class.as_deref() == slot);
            let proposal = evaluation.and_then(|e| e.get(&item.id, slot));
            let mut reasons: Vec<String> = proposal.map(|p| p.reasons.clone()).unwrap_or_default();
            if let Some(o) = answer.and_then(|a| a.overridden.as_ref()) {
                reasons.push(format!("{}さんが提案（{}）を変更: {}", o.by, o.proposed.label_ja(), o.reason));
            }
            let mut evidence: Vec<EvidenceRef> = answer.map(|a| a.evidence.clone()).unwrap_or_default();
            for e in proposal.map(|p| p.evidence.as_slice()).unwrap_or_default() {
                if !evidence.contains(e) {
                    evidence.push(e.clone());
                }
            }
            let base = EvidenceRow {
                item_id: item.id.clone(),
                device_class_label: slot.map(|c| edition.device_class_label(c).to_owned()),
                value: answer.map_or(AnswerValue::Unanswered, |a| a.value),
                proposed: proposal.map(|p| p.value),
                reasons: reasons.join("\n"),
                evidence: None,
            };
            if evidence.is_empty() {
                rows.push(base);
            } else {
                for e in evidence {
                    rows.push(EvidenceRow { evidence: Some(e), ..base.clone() });
                }
            }
        }
    }
    rows
}
