//! The MHLW 「医療機関におけるサイバーセキュリティ対策チェックリスト」: editions per fiscal year
//! as data, answers and their rules, the evaluator that proposes answers from facts, and the
//! official form as XLSX (import of MHLW's workbook, export of the filled form).
//!
//! Where it sits in the pipeline: the checklist *reads* facts (ledger rows, documents) and,
//! through [`evaluate::Rule`] plug-ins, what scans, log and backup analysers found. It never
//! writes facts and does no I/O itself: callers pass bytes and get bytes back, except
//! [`definition::Edition::load_file`] and reading the font file for [`pdf::export_pdf`].
//!
//! - [`definition`]: `Edition` → `Form` → `Section` → `Item`, loaded from TOML, validated.
//! - [`answer`]: `Answer`, `validate_answer`, `carry_over`, `progress`.
//! - [`answers_import`]: `import_answers_xlsx`, a filled form (a vendor's 事業者確認用)
//!   read back from the XLSX mamori exported, its layout checked cell by cell.
//! - [`evaluate`]: `Facts`, the `Rule` and `FactProvider` traits, `Evaluator`, `rules_coverage`.
//! - [`rules`]: the rules that ledgers can answer today.
//! - [`import`]: `import_edition_xlsx`, `diff`, `edition_from_import`.
//! - [`layout`], [`export`] and [`pdf`]: the official form layout, written as XLSX and as PDF
//!   (with an embedded subset of a Japanese font of the system).
#![forbid(unsafe_code)]

pub mod answer;
pub mod answers_import;
pub mod dates;
pub mod definition;
pub mod evaluate;
pub mod export;
pub mod import;
pub mod layout;
pub mod normalize;
pub mod pdf;
pub mod rules;

pub use answer::{Answer, AnswerError, AnswerValue, carry_over, progress, validate_answer, validate_answers};
pub use answers_import::{AnswerImportError, AnswerImportWarning, ImportedAnswers, import_answers_xlsx};
pub use definition::{
    Certainty, DefinitionError, Edition, Form, Item, Respondent, Section, builtin_edition, builtin_editions,
};
pub use evaluate::{
    Evaluation, Evaluator, EvidenceKind, EvidenceRef, FactProvider, Facts, Proposal, ProposedValue, Rule, RuleContext,
    RuleTarget, rules_coverage,
};
pub use export::{ExportError, export_xlsx};
pub use import::{EditionDiff, ImportError, ImportedEdition, diff, edition_from_import, import_edition_xlsx};
pub use pdf::{FontSource, PdfError, export_pdf};
