//! The MHLW checklist as the web UI and the CLI use it: which edition a fiscal year uses
//! (an imported MHLW workbook wins over the shipped data), the facts the evaluator reads
//! (every ledger with when it last changed, the registered documents, the designated
//! 責任者), answers loaded and saved after validation, and documents registered with their
//! file. One implementation for both front ends.

use mamori_checklist::answer::AnswerError;
use mamori_checklist::evaluate::{Document, DocumentKind, Responsible};
use mamori_checklist::{Answer, DefinitionError, Edition, Evaluation, Evaluator, Facts, builtin_editions};
use mamori_domain::evidence::Evidence;
use mamori_domain::institution::InstitutionKind;
use mamori_domain::record::RecordKind;
use mamori_store::{Attachment, ChecklistKey, RecordQuery, Scope, Store, StoreError, StoredEdition};
use time::Date;

/// Evidence kind of registered documents (BCP, 連絡体制図, 規程, MDS/SDS files …).
pub const DOCUMENT_EVIDENCE: &str = "document";
/// Institution setting holding the designated 責任者 (JSON of `Responsible`).
pub const RESPONSIBLE_KEY: &str = "checklist:responsible";

#[derive(Debug, thiserror::Error)]
pub enum ChecklistIoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    #[error(transparent)]
    Import(#[from] mamori_checklist::ImportError),
    #[error(transparent)]
    Export(#[from] mamori_checklist::ExportError),
    #[error(transparent)]
    Pdf(#[from] mamori_checklist::PdfError),
    #[error(transparent)]
    AnswersImport(#[from] mamori_checklist::AnswerImportError),
    #[error("no checklist edition for fiscal year {fiscal_year}")]
    NoEdition { fiscal_year: i32 },
}

impl ChecklistIoError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(e) => e.code(),
            Self::Answer(e) => e.code(),
            Self::Definition(e) => e.code(),
            Self::Import(e) => e.code(),
            Self::Export(e) => e.code(),
            Self::Pdf(e) => e.code(),
            Self::AnswersImport(e) => e.code(),
            Self::NoEdition { .. } => "checklist-no-edition",
        }
    }
}

/// The error in the user's language, naming the item and the dates involved.
pub fn error_text(lang: mamori_i18n::Lang, e: &ChecklistIoError) -> String {
    use mamori_i18n::Arg;
    let s = |v: &str| Arg::from(v.to_owned());
    match e {
        ChecklistIoError::Answer(a) => {
            let key = format!("checklist-error-{}", a.code().trim_start_matches("checklist-"));
            let args: Vec<(&'static str, Arg)> = match a {
                AnswerError::UnknownForm { form, .. } => vec![("form", s(form))],
                AnswerError::UnknownItem { form, item } => vec![("form", s(form)), ("item", s(item))],
                AnswerError::DeviceClassNotAsked { item, class, asked } => {
                    vec![("item", s(item)), ("class", s(class)), ("asked", s(&asked.join(", ")))]
                }
                AnswerError::DeviceClassRequired { item, asked } => {
                    vec![("item", s(item)), ("asked", s(&asked.join(", ")))]
                }
                AnswerError::DuplicateAnswer { item, .. }
                | AnswerError::ConfirmedDateRequired { item }
                | AnswerError::TargetDateRequired { item }
                | AnswerError::OverrideReasonRequired { item } => vec![("item", s(item))],
                AnswerError::TargetDateOutsideFiscalYear { item, target, from, to, deadline } => vec![
                    ("item", s(item)),
                    ("target", s(target)),
                    ("from", s(from)),
                    ("to", s(to)),
                    ("deadline", s(deadline)),
                ],
                AnswerError::TargetDateBeforeConfirmed { item, target, confirmed } => {
                    vec![("item", s(item)), ("target", s(target)), ("confirmed", s(confirmed))]
                }
                AnswerError::NoteTooLong { item, max } => vec![("item", s(item)), ("max", Arg::from(*max))],
            };
            lang.try_ta(&key, &args).unwrap_or_else(|| a.to_string())
        }
        ChecklistIoError::Import(i) => {
            let what = lang.try_t(i.code()).unwrap_or_else(|| i.to_string());
            lang.ta("checklist-error-import", &[("what", what.into())])
        }
        ChecklistIoError::Pdf(mamori_checklist::PdfError::FontMissing { package, .. }) => {
            lang.ta("checklist-error-pdf-font-missing", &[("package", s(package))])
        }
        ChecklistIoError::AnswersImport(i) => answers_import_text(lang, i),
        ChecklistIoError::NoEdition { fiscal_year } => {
            lang.ta("checklist-error-no-edition", &[("fy", Arg::from(i64::from(*fiscal_year)))])
        }
        other => lang.ta("checklist-error-other", &[("code", s(other.code())), ("detail", s(&other.to_string()))]),
    }
}

/// Today in Japan.
pub fn today() -> Date {
    mamori_domain::time_fmt::now().to_offset(crate::ledger_io::jst()).date()
}

/// The Japanese fiscal year (April to March) a day falls in.
pub fn fiscal_year_of(d: Date) -> i32 {
    if u8::from(d.month()) >= 4 { d.year() } else { d.year() - 1 }
}

/// The form an institution answers for itself.
pub fn own_form(kind: InstitutionKind, edition: &Edition) -> String {
    let wanted = if kind == InstitutionKind::Pharmacy { "pharmacy" } else { "clinic" };
    if edition.form(wanted).is_some() {
        return wanted.to_owned();
    }
    // A merged form (e.g. 医療機関・薬局確認用) or whatever the edition's first institution form is.
    edition
        .forms
        .iter()
        .find(|f| f.respondent == mamori_checklist::Respondent::Institution)
        .or(edition.forms.first())
        .map(|f| f.id.clone())
        .unwrap_or_else(|| wanted.to_owned())
}

/// Every edition: the shipped ones, and those an administrator imported (an imported one
/// for a fiscal year comes after the shipped one, so it wins in [`edition_for`]).
pub async fn editions(store: &dyn Store) -> Result<Vec<Edition>, ChecklistIoError> {
    let mut all: Vec<Edition> = builtin_editions().to_vec();
    for stored in store.checklist_editions().await? {
        match Edition::from_json_str(&stored.definition) {
            Ok(e) => all.push(e),
            Err(e) => {
                tracing::warn!(edition = %stored.id, error = %e, "ignoring an imported edition that no longer loads")
            }
        }
    }
    Ok(all)
}

/// The edition used for a fiscal year: the newest imported one, else the shipped one.
pub async fn edition_for(store: &dyn Store, fiscal_year: i32) -> Result<Edition, ChecklistIoError> {
    editions(store)
        .await?
        .into_iter()
        .rev()
        .find(|e| e.fiscal_year == fiscal_year)
        .ok_or(ChecklistIoError::NoEdition { fiscal_year })
}

/// The fiscal years there is an edition for, newest first.
pub async fn fiscal_years(store: &dyn Store) -> Result<Vec<i32>, ChecklistIoError> {
    let mut years: Vec<i32> = editions(store).await?.iter().map(|e| e.fiscal_year).collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    Ok(years)
}

/// Stores an imported edition after an administrator confirmed it.
pub async fn save_edition(
    store: &dyn Store,
    edition: &Edition,
    source: &str,
    bytes: &[u8],
    actor: &str,
) -> Result<(), ChecklistIoError> {
    edition.validate()?;
    let stored = StoredEdition {
        id: edition.id.clone(),
        fiscal_year: edition.fiscal_year,
        definition: edition.to_json(),
        source: source.to_owned(),
        source_hash: blake3::hash(bytes).to_hex().to_string(),
        imported_by: actor.to_owned(),
        created_at: mamori_domain::time_fmt::now(),
    };
    Ok(store.put_checklist_edition(&stored).await?)
}

/// The registered documents with the evidence that holds each.
pub async fn documents(store: &dyn Store, scope: &Scope) -> Result<Vec<(Evidence, Document)>, StoreError> {
    Ok(store
        .list_evidence(scope, DOCUMENT_EVIDENCE, 500)
        .await?
        .into_iter()
        .filter_map(|e| {
            let doc: Document = serde_json::from_value(e.data.get("document")?.clone()).ok()?;
            Some((e, doc))
        })
        .collect())
}

/// Registers a document (BCP, 連絡体制図 …) with its file, as evidence with the file's hash.
pub async fn register_document(
    store: &dyn Store,
    scope: &Scope,
    kind: DocumentKind,
    title: &str,
    reviewed_on: Option<Date>,
    file: Attachment,
    actor: &str,
) -> Result<Evidence, StoreError> {
    let mut evidence =
        Evidence::new(DOCUMENT_EVIDENCE, &format!("{}: {title}", kind.label_ja()), serde_json::Value::Null);
    let doc = Document {
        id: evidence.id.to_string(),
        kind,
        title: title.to_owned(),
        reviewed_on,
        registered_at: Some(evidence.observed_at),
    };
    evidence.data = serde_json::json!({"document": doc});
    evidence.content_hash = Some(file.content_hash());
    evidence.source = Some(file.name.clone());
    store.put_evidence(scope, &evidence, Some(&file), actor).await?;
    Ok(evidence)
}

pub async fn responsible(store: &dyn Store, scope: &Scope) -> Result<Option<Responsible>, StoreError> {
    Ok(store
        .get_institution_setting(scope, RESPONSIBLE_KEY)
        .await?
        .and_then(|json| serde_json::from_str::<Responsible>(&json).ok()))
}

pub async fn set_responsible(store: &dyn Store, scope: &Scope, r: &Responsible, actor: &str) -> Result<(), StoreError> {
    let json = serde_json::to_string(r).map_err(|e| StoreError::Invalid(e.to_string()))?;
    store.set_institution_setting(scope, RESPONSIBLE_KEY, &json, actor).await
}

/// Everything the rules read, as of `as_of`.
pub async fn facts(store: &dyn Store, scope: &Scope, as_of: Date) -> Result<Facts, StoreError> {
    let mut facts = Facts::new(as_of);
    for kind in RecordKind::ALL {
        let rows = store.list_rows(scope, kind, &RecordQuery::default()).await?;
        let updated = store.ledger_updated_at(scope, kind).await?;
        facts.set_ledger(kind, rows, updated);
    }
    facts.documents = documents(store, scope).await?.into_iter().map(|(_, d)| d).collect();
    facts.responsible = responsible(store, scope).await?;
    // What the latest network scan saw (a plug-in fact; its rules are in `scan_io`).
    match crate::scan_io::observations(store, scope).await {
        Ok(Some(o)) => facts.insert_extension(o),
        Ok(None) => {}
        Err(crate::scan_io::ScanIoError::Store(e)) => return Err(e),
        Err(e) => tracing::warn!(error = %e, "the latest scan could not be read for the checklist"),
    }
    Ok(facts)
}

/// The ledger rules and the rules later capabilities add (network scans).
pub fn evaluator() -> Evaluator {
    let mut e = Evaluator::with_ledger_rules();
    for rule in crate::scan_io::checklist_rules() {
        e.add_rule(rule);
    }
    e
}

/// mamori's proposals for a form.
pub async fn evaluate(
    store: &dyn Store,
    scope: &Scope,
    edition: &Edition,
    form: &str,
    as_of: Date,
) -> Result<Evaluation, ChecklistIoError> {
    let facts = facts(store, scope, as_of).await?;
    Ok(evaluator().evaluate(edition, form, &facts)?)
}

/// The stored answers of one form.
pub async fn answers(store: &dyn Store, scope: &Scope, key: &ChecklistKey) -> Result<Vec<Answer>, StoreError> {
    store
        .checklist_answers(scope, key)
        .await?
        .into_iter()
        .map(|a| serde_json::from_value(a.answer).map_err(|e| StoreError::Corrupt(format!("checklist answer: {e}"))))
        .collect()
}

/// Last year's answers carried over to this year's form (values and notes; dates are not
/// carried: a person confirms again). Empty when there is no earlier year.
pub async fn previous_year(
    store: &dyn Store,
    scope: &Scope,
    edition: &Edition,
    key: &ChecklistKey,
) -> Result<Vec<Answer>, ChecklistIoError> {
    let previous = match edition_for(store, key.fiscal_year - 1).await {
        Ok(e) => e,
        Err(ChecklistIoError::NoEdition { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let Some(form) = previous.form(&key.form).map(|f| f.id.clone()) else { return Ok(Vec::new()) };
    let last = ChecklistKey { fiscal_year: key.fiscal_year - 1, form: form.clone(), vendor: key.vendor };
    let answers = answers(store, scope, &last).await?;
    if answers.is_empty() {
        return Ok(Vec::new());
    }
    Ok(mamori_checklist::carry_over(&previous, &form, &answers, edition, &key.form)?.answers)
}

/// Validates answers against the edition (all of them, before anything is written), then
/// saves those that changed. Returns how many changed.
pub async fn save_answers(
    store: &dyn Store,
    scope: &Scope,
    edition: &Edition,
    key: &ChecklistKey,
    answers: &[Answer],
    actor: &str,
) -> Result<u64, ChecklistIoError> {
    mamori_checklist::validate_answers(edition, &key.form, answers)?;
    let rows: Vec<(String, Option<String>, serde_json::Value)> = answers
        .iter()
        .map(|a| {
            let json = serde_json::to_value(a).map_err(|e| StoreError::Invalid(e.to_string()))?;
            Ok((a.item_id.clone(), a.device_class.clone(), json))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(store.put_checklist_answers(scope, key, &rows, actor).await?)
}

/// Why a filled form could not be imported, naming the sheet, cell and item.
fn answers_import_text(lang: mamori_i18n::Lang, e: &mamori_checklist::AnswerImportError) -> String {
    use mamori_checklist::AnswerImportError as E;
    use mamori_i18n::Arg;
    let s = |v: &str| Arg::from(v.to_owned());
    let n = |v: u32| Arg::from(i64::from(v));
    let c = |v: &char| Arg::from(v.to_string());
    let args: Vec<(&'static str, Arg)> = match e {
        E::TooLarge { bytes, max } => vec![("bytes", Arg::from(*bytes)), ("max", Arg::from(*max))],
        E::Damaged { .. } | E::PasswordProtected => vec![],
        E::UnknownForm { edition, form } => vec![("edition", s(edition)), ("form", s(form))],
        E::SheetMissing { expected, sheets } => vec![("expected", s(expected)), ("sheets", s(&sheets.join("、")))],
        E::WrongForm { sheet, expected, found } | E::WrongEdition { sheet, expected, found } => {
            vec![("sheet", s(sheet)), ("expected", s(expected)), ("found", s(found))]
        }
        E::LayoutChanged { sheet, row, column, expected, found } => vec![
            ("sheet", s(sheet)),
            ("row", n(*row)),
            ("column", c(column)),
            ("expected", s(expected)),
            ("found", s(found)),
        ],
        E::UnknownItem { sheet, row, column, item } => {
            vec![("sheet", s(sheet)), ("row", n(*row)), ("column", c(column)), ("item", s(item))]
        }
        E::TooManyRows { sheet, max } => vec![("sheet", s(sheet)), ("max", n(*max))],
        E::BadMark { sheet, row, column, item, found } => {
            vec![("sheet", s(sheet)), ("row", n(*row)), ("column", c(column)), ("item", s(item)), ("found", s(found))]
        }
        E::BothMarked { sheet, row, item } => vec![("sheet", s(sheet)), ("row", n(*row)), ("item", s(item))],
        E::BadDate { sheet, row, column, item, header, found } => vec![
            ("sheet", s(sheet)),
            ("row", n(*row)),
            ("column", c(column)),
            ("item", s(item)),
            ("header", s(header)),
            ("found", s(found)),
        ],
        E::InvalidAnswer { sheet, row, source } => vec![
            ("sheet", s(sheet)),
            ("row", n(*row)),
            ("what", s(&error_text(lang, &ChecklistIoError::Answer((**source).clone())))),
        ],
    };
    lang.try_ta(e.code(), &args).unwrap_or_else(|| e.to_string())
}

/// The font for PDF exports: `MAMORI_PDF_FONT` (a font file) when set, else the first
/// Japanese system font found.
pub fn pdf_font() -> mamori_checklist::FontSource {
    match std::env::var_os("MAMORI_PDF_FONT") {
        Some(path) if !path.is_empty() => mamori_checklist::FontSource::Path(path.into()),
        _ => mamori_checklist::FontSource::System,
    }
}

/// The filled form as PDF (official layout, embedded Japanese font, evidence appendix).
pub fn export_pdf(
    edition: &Edition,
    form: &str,
    institution_name: &str,
    answers: &[Answer],
    evaluation: Option<&Evaluation>,
) -> Result<Vec<u8>, ChecklistIoError> {
    Ok(mamori_checklist::export_pdf(edition, form, institution_name, answers, evaluation, &pdf_font())?)
}

/// What an imported workbook changes, as lines for people (CLI and the admin page).
pub fn diff_lines(lang: mamori_i18n::Lang, base: &Edition, diff: &mamori_checklist::EditionDiff) -> Vec<String> {
    use mamori_i18n::Arg;
    let mut out = vec![lang.ta("checklist-diff-base", &[("edition", Arg::from(base.label_ja.as_str()))])];
    if diff.is_empty() {
        out.push(lang.t("checklist-diff-none"));
        return out;
    }
    for f in &diff.forms_added {
        out.push(lang.ta("checklist-diff-form-added", &[("form", Arg::from(f.as_str()))]));
    }
    for f in &diff.forms_missing {
        out.push(lang.ta("checklist-diff-form-missing", &[("form", Arg::from(f.as_str()))]));
    }
    for f in diff.forms.iter().filter(|f| !f.is_empty()) {
        let form = |k: &str, id: &str, text: &str| {
            lang.ta(k, &[("form", Arg::from(f.form.as_str())), ("item", Arg::from(id)), ("text", Arg::from(text))])
        };
        for i in &f.added {
            out.push(form("checklist-diff-added", &i.id, &i.text));
        }
        for i in &f.removed {
            out.push(form("checklist-diff-removed", &i.id, &i.text));
        }
        for w in &f.wording_changed {
            out.push(form("checklist-diff-wording", &w.id, &format!("「{}」→「{}」", w.shipped, w.imported)));
        }
        for w in &f.newly_confirmed {
            out.push(form("checklist-diff-confirmed", &w.id, &w.imported));
        }
        for c in &f.device_classes_changed {
            out.push(form(
                "checklist-diff-classes",
                &c.id,
                &format!("{} → {}", c.shipped.join("・"), c.imported.join("・")),
            ));
        }
        for (no, old, new) in &f.section_titles_changed {
            out.push(form("checklist-diff-section", no, &format!("「{old}」→「{new}」")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fiscal_year_of;
    use time::macros::date;

    #[test]
    fn fiscal_years_start_in_april() {
        assert_eq!(fiscal_year_of(date!(2026 - 03 - 31)), 2025);
        assert_eq!(fiscal_year_of(date!(2026 - 04 - 01)), 2026);
        assert_eq!(fiscal_year_of(date!(2026 - 11 - 22)), 2026);
    }
}
