//! Answers to a form and the rules they must follow: はい / いいえ / 未回答, 確認日, 目標日
//! (required for いいえ and within the fiscal year, or the item's own deadline), per device
//! class where the item asks per class, and the reason when a person overrides mamori's
//! proposal. Pure functions: the store keeps answers and their history.

use crate::dates;
use crate::definition::{Edition, Form, Item};
use crate::evaluate::{EvidenceRef, ProposedValue};
use crate::normalize::wording_key;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// The longest note an answer may carry, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerValue {
    Yes,
    No,
    #[default]
    Unanswered,
}

impl AnswerValue {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Yes => "はい",
            Self::No => "いいえ",
            Self::Unanswered => "未回答",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Unanswered => "unanswered",
        }
    }
}

/// A person chose a different answer than mamori proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// Who (user id or name, as the store records it).
    pub by: String,
    pub reason: String,
    /// What mamori had proposed.
    pub proposed: ProposedValue,
}

/// Where a carried-over answer came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedFrom {
    pub edition_id: String,
    pub item_id: String,
}

/// The answer to one item, or to one device class of an item asked per class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub item_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_class: Option<String>,
    pub value: AnswerValue,
    /// 確認日
    #[serde(default, with = "dates::option", skip_serializing_if = "Option::is_none")]
    pub confirmed_on: Option<Date>,
    /// 目標日
    #[serde(default, with = "dates::option", skip_serializing_if = "Option::is_none")]
    pub target_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden: Option<Override>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<CarriedFrom>,
}

impl Answer {
    pub fn new(item_id: &str, device_class: Option<&str>, value: AnswerValue) -> Self {
        Self {
            item_id: item_id.to_owned(),
            device_class: device_class.map(str::to_owned),
            value,
            confirmed_on: None,
            target_date: None,
            note: None,
            evidence: Vec::new(),
            overridden: None,
            carried_from: None,
        }
    }

    pub fn confirmed(mut self, on: Date) -> Self {
        self.confirmed_on = Some(on);
        self
    }

    pub fn target(mut self, on: Date) -> Self {
        self.target_date = Some(on);
        self
    }

    fn slot(&self) -> (&str, Option<&str>) {
        (&self.item_id, self.device_class.as_deref())
    }
}

/// Why an answer cannot be saved. Nothing is saved when any answer of a batch fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the edition {edition} has no form {form:?}")]
    UnknownForm { edition: String, form: String },
    #[error("form {form:?} has no item {item:?}")]
    UnknownItem { form: String, item: String },
    #[error("item {item}: device class {class:?} is not asked (asked: {asked:?})")]
    DeviceClassNotAsked { item: String, class: String, asked: Vec<String> },
    #[error("item {item} is answered per device class; say which of {asked:?}")]
    DeviceClassRequired { item: String, asked: Vec<String> },
    #[error("item {item}: answered twice{}", class.as_deref().map(|c| format!(" for {c}")).unwrap_or_default())]
    DuplicateAnswer { item: String, class: Option<String> },
    #[error("item {item}: an answer needs the date it was checked (確認日)")]
    ConfirmedDateRequired { item: String },
    #[error("item {item}: いいえ needs a target date (目標日)")]
    TargetDateRequired { item: String },
    #[error("item {item}: target date {target} is outside {from}..{to} ({deadline})")]
    TargetDateOutsideFiscalYear { item: String, target: String, from: String, to: String, deadline: String },
    #[error("item {item}: target date {target} is before the date it was checked ({confirmed})")]
    TargetDateBeforeConfirmed { item: String, target: String, confirmed: String },
    #[error("item {item}: overriding mamori's proposal needs a reason")]
    OverrideReasonRequired { item: String },
    #[error("item {item}: the note is longer than {max} characters")]
    NoteTooLong { item: String, max: usize },
}

impl AnswerError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownForm { .. } => "checklist-unknown-form",
            Self::UnknownItem { .. } => "checklist-unknown-item",
            Self::DeviceClassNotAsked { .. } => "checklist-device-class-not-asked",
            Self::DeviceClassRequired { .. } => "checklist-device-class-required",
            Self::DuplicateAnswer { .. } => "checklist-duplicate-answer",
            Self::ConfirmedDateRequired { .. } => "checklist-confirmed-date-required",
            Self::TargetDateRequired { .. } => "checklist-target-date-required",
            Self::TargetDateOutsideFiscalYear { .. } => "checklist-target-date-outside-fiscal-year",
            Self::TargetDateBeforeConfirmed { .. } => "checklist-target-date-before-confirmed",
            Self::OverrideReasonRequired { .. } => "checklist-override-reason-required",
            Self::NoteTooLong { .. } => "checklist-note-too-long",
        }
    }
}

fn form_of<'e>(edition: &'e Edition, form: &str) -> Result<&'e Form, AnswerError> {
    edition.form(form).ok_or_else(|| AnswerError::UnknownForm { edition: edition.id.clone(), form: form.to_owned() })
}

/// Checks one answer against the form. 未回答 needs nothing; はい and いいえ need 確認日;
/// いいえ needs a 目標日 from the start of the fiscal year to the item's deadline.
pub fn validate_answer(edition: &Edition, form: &str, answer: &Answer) -> Result<(), AnswerError> {
    let f = form_of(edition, form)?;
    let item = f
        .item(&answer.item_id)
        .ok_or_else(|| AnswerError::UnknownItem { form: form.to_owned(), item: answer.item_id.clone() })?;
    let id = || item.id.clone();
    match (&answer.device_class, item.per_device_class) {
        (Some(c), true) if item.device_classes.contains(c) => {}
        (None, false) => {}
        (None, true) => {
            return Err(AnswerError::DeviceClassRequired { item: id(), asked: item.device_classes.clone() });
        }
        (Some(c), _) => {
            let asked = if item.per_device_class { item.device_classes.clone() } else { Vec::new() };
            return Err(AnswerError::DeviceClassNotAsked { item: id(), class: c.clone(), asked });
        }
    }
    if answer.note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(AnswerError::NoteTooLong { item: id(), max: MAX_NOTE_CHARS });
    }
    if let Some(o) = &answer.overridden
        && o.reason.trim().is_empty()
    {
        return Err(AnswerError::OverrideReasonRequired { item: id() });
    }
    if answer.value == AnswerValue::Unanswered {
        return Ok(());
    }
    let Some(confirmed) = answer.confirmed_on else {
        return Err(AnswerError::ConfirmedDateRequired { item: id() });
    };
    if answer.value == AnswerValue::No {
        let Some(target) = answer.target_date else {
            return Err(AnswerError::TargetDateRequired { item: id() });
        };
        let (from, to) = edition.target_window(item);
        if target < from || target > to {
            return Err(AnswerError::TargetDateOutsideFiscalYear {
                item: id(),
                target: dates::format(target),
                from: dates::format(from),
                to: dates::format(to),
                deadline: edition.deadline_for(item).label_ja.clone(),
            });
        }
        if target < confirmed {
            return Err(AnswerError::TargetDateBeforeConfirmed {
                item: id(),
                target: dates::format(target),
                confirmed: dates::format(confirmed),
            });
        }
    }
    Ok(())
}

/// Checks a batch (a whole form being saved or a vendor's re-imported file): every answer
/// valid and no slot answered twice. The first problem is returned.
pub fn validate_answers(edition: &Edition, form: &str, answers: &[Answer]) -> Result<(), AnswerError> {
    let mut seen = std::collections::BTreeSet::new();
    for a in answers {
        validate_answer(edition, form, a)?;
        if !seen.insert(a.slot()) {
            return Err(AnswerError::DuplicateAnswer { item: a.item_id.clone(), class: a.device_class.clone() });
        }
    }
    Ok(())
}

/// One value for several: every はい → はい; any いいえ → いいえ; otherwise 未回答.
pub fn rollup(values: impl IntoIterator<Item = AnswerValue>) -> AnswerValue {
    let mut any = false;
    let mut all_yes = true;
    for v in values {
        any = true;
        match v {
            AnswerValue::No => return AnswerValue::No,
            AnswerValue::Unanswered => all_yes = false,
            AnswerValue::Yes => {}
        }
    }
    if any && all_yes { AnswerValue::Yes } else { AnswerValue::Unanswered }
}

/// The result of starting a new year from last year's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarryOver {
    /// One answer per slot of the new form: carried values (without dates), or 未回答.
    pub answers: Vec<Answer>,
    /// (previous item id, new item id) pairs that were matched.
    pub matched: Vec<(String, String)>,
    /// New items with no predecessor.
    pub new_items: Vec<String>,
    /// Previous items that found no place in the new form.
    pub dropped: Vec<String>,
}

/// Starts `next_form` of `next` from the answers given to `previous_form` of `previous`.
///
/// Items are matched by id with the same wording, then by the same normalised wording (ids
/// move between editions: 2-(7) became 2-⑥), then by topic, then by id alone when the topics
/// do not contradict it. Values, notes and evidence are kept; 確認日, 目標日 and overrides are
/// dropped, so every carried answer must be confirmed again. Answers per device class roll up
/// into a single answer, and a single answer spreads over the classes.
pub fn carry_over(
    previous: &Edition,
    previous_form: &str,
    answers: &[Answer],
    next: &Edition,
    next_form: &str,
) -> Result<CarryOver, AnswerError> {
    let pf = form_of(previous, previous_form)?;
    let nf = form_of(next, next_form)?;
    let prev_items: Vec<&Item> = pf.items().collect();
    let next_items: Vec<&Item> = nf.items().collect();
    let mut pairs: BTreeMap<usize, usize> = BTreeMap::new(); // next index -> prev index
    let mut used = vec![false; prev_items.len()];
    let key = |i: &Item| wording_key(i.display_text());

    type Matcher<'a> = Box<dyn Fn(&Item, &Item) -> bool + 'a>;
    let passes: [Matcher; 4] = [
        Box::new(|n, p| n.id == p.id && key(n) == key(p)),
        Box::new(|n, p| key(n) == key(p)),
        Box::new(|n, p| n.topic.is_some() && n.topic == p.topic),
        Box::new(|n, p| n.id == p.id && (n.topic.is_none() || p.topic.is_none() || n.topic == p.topic)),
    ];
    for pass in &passes {
        for (ni, n) in next_items.iter().enumerate() {
            if pairs.contains_key(&ni) {
                continue;
            }
            let candidates: Vec<usize> =
                (0..prev_items.len()).filter(|&pi| !used[pi] && pass(n, prev_items[pi])).collect();
            if let [pi] = candidates[..] {
                pairs.insert(ni, pi);
                used[pi] = true;
            }
        }
    }

    let mut out = CarryOver { answers: Vec::new(), matched: Vec::new(), new_items: Vec::new(), dropped: Vec::new() };
    for (ni, n) in next_items.iter().enumerate() {
        let prev = pairs.get(&ni).map(|&pi| prev_items[pi]);
        match prev {
            Some(p) => out.matched.push((p.id.clone(), n.id.clone())),
            None => out.new_items.push(n.id.clone()),
        }
        let prev_answers: Vec<&Answer> =
            prev.map(|p| answers.iter().filter(|a| a.item_id == p.id).collect()).unwrap_or_default();
        for slot in n.answer_slots() {
            let mut a = Answer::new(&n.id, slot, AnswerValue::Unanswered);
            let sources: Vec<&Answer> = match slot {
                Some(class) => {
                    let same: Vec<&Answer> =
                        prev_answers.iter().copied().filter(|a| a.device_class.as_deref() == Some(class)).collect();
                    if same.is_empty() {
                        prev_answers.iter().copied().filter(|a| a.device_class.is_none()).collect()
                    } else {
                        same
                    }
                }
                None => prev_answers.clone(),
            };
            if let (Some(p), false) = (prev, sources.is_empty()) {
                a.value = rollup(sources.iter().map(|s| s.value));
                let notes: Vec<&str> = sources.iter().filter_map(|s| s.note.as_deref()).collect();
                a.note = (!notes.is_empty()).then(|| notes.join("\n"));
                for s in &sources {
                    for e in &s.evidence {
                        if !a.evidence.contains(e) {
                            a.evidence.push(e.clone());
                        }
                    }
                }
                a.carried_from = Some(CarriedFrom { edition_id: previous.id.clone(), item_id: p.id.clone() });
            }
            out.answers.push(a);
        }
    }
    for (pi, p) in prev_items.iter().enumerate() {
        if !used[pi] {
            out.dropped.push(p.id.clone());
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub yes: usize,
    pub no: usize,
    pub unanswered: usize,
    /// Slots made 確認不要 by a gate item answered いいえ.
    pub not_required: usize,
}

impl Counts {
    fn add(&mut self, v: Option<AnswerValue>) {
        match v {
            Some(AnswerValue::Yes) => self.yes += 1,
            Some(AnswerValue::No) => self.no += 1,
            Some(AnswerValue::Unanswered) => self.unanswered += 1,
            None => self.not_required += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.yes + self.no + self.unanswered + self.not_required
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionProgress {
    pub no: Option<String>,
    pub title: String,
    pub counts: Counts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineKind {
    /// A 目標日 given with いいえ.
    TargetDate,
    /// The item's own deadline (令和N年度中, 令和9年度) while it is not はい.
    ItemDeadline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineNear {
    pub item_id: String,
    pub device_class: Option<String>,
    pub kind: DeadlineKind,
    #[serde(with = "dates")]
    pub date: Date,
    pub label_ja: String,
    /// Negative when overdue.
    pub days_left: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub sections: Vec<SectionProgress>,
    pub total: Counts,
    /// Deadlines within the horizon or past, soonest first.
    pub deadlines: Vec<DeadlineNear>,
    /// Items of the form whose wording is not confirmed (shown as 「文言未確認」).
    pub unconfirmed_wording: usize,
}

/// Counts はい / いいえ / 未回答 per section (per answer slot) and lists deadlines that fall
/// within `horizon_days` of `as_of` or have passed.
pub fn progress(
    edition: &Edition,
    form: &str,
    answers: &[Answer],
    as_of: Date,
    horizon_days: i64,
) -> Result<Progress, AnswerError> {
    let f = form_of(edition, form)?;
    let find = |item: &str, class: Option<&str>| {
        answers.iter().find(|a| a.item_id == item && a.device_class.as_deref() == class)
    };
    let gate_closed = f.items().any(|i| i.gate && find(&i.id, None).is_some_and(|a| a.value == AnswerValue::No));
    let mut out =
        Progress { sections: Vec::new(), total: Counts::default(), deadlines: Vec::new(), unconfirmed_wording: 0 };
    for section in &f.sections {
        let mut counts = Counts::default();
        for item in &section.items {
            if !item.wording_confirmed() {
                out.unconfirmed_wording += 1;
            }
            for slot in item.answer_slots() {
                let answer = find(&item.id, slot);
                let value = answer.map_or(AnswerValue::Unanswered, |a| a.value);
                let counted = if gate_closed && !item.gate { None } else { Some(value) };
                counts.add(counted);
                out.total.add(counted);
                if counted.is_none() || value == AnswerValue::Yes {
                    continue;
                }
                let mut near = |kind, date: Date, label_ja: String| {
                    let days_left = (date - as_of).whole_days();
                    if days_left <= horizon_days {
                        out.deadlines.push(DeadlineNear {
                            item_id: item.id.clone(),
                            device_class: slot.map(str::to_owned),
                            kind,
                            date,
                            label_ja,
                            days_left,
                        });
                    }
                };
                if let Some(t) = answer.and_then(|a| a.target_date).filter(|_| value == AnswerValue::No) {
                    near(DeadlineKind::TargetDate, t, edition.target_date_label_ja.clone());
                } else {
                    let d = edition.deadline_for(item);
                    near(DeadlineKind::ItemDeadline, d.by, d.label_ja.clone());
                }
            }
        }
        out.sections.push(SectionProgress { no: section.no.clone(), title: section.display_title(), counts });
    }
    out.deadlines.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.item_id.cmp(&b.item_id)));
    Ok(out)
}
