//! Turns any error into one line in the user's language. A user never sees a Rust error
//! string for a known problem; unexpected ones say so and point to `-v` for details.

use mamori_i18n::{Arg, Lang};
use mamori_store::StoreError;
use std::process::ExitCode;

/// Problems found by the CLI itself.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("bad listen address {value}")]
    BadListen { value: String },
    #[error("bad id {value}")]
    BadId { value: String },
    #[error("unknown job status {value}")]
    BadStatus { value: String },
    #[error("cannot read {path}: {reason}")]
    ReadFile { path: String, reason: String },
    #[error("the file cannot be read as a ledger ({code})")]
    ImportUnreadable { code: &'static str, row: Option<usize> },
    #[error("no header row for {ledger}")]
    ImportNoHeader { ledger: String },
    #[error("{count} errors in the file")]
    ImportHasErrors { count: usize },
    #[error("the audit log is broken")]
    AuditBroken,
    #[error("the job ended as {status}")]
    JobNotSucceeded { status: String },
    #[error("unknown ledger {value}")]
    BadLedgerKind { value: String },
    #[error("no institution is registered")]
    NoInstitution,
    #[error("{count} institutions: --institution is needed")]
    InstitutionRequired { count: usize },
    #[error("row {row}, {column}: {character:?} is not in CP932")]
    NotRepresentable { row: usize, column: String, character: char },
    #[error("cannot write the file: {reason}")]
    Export { reason: String },
    #[error("cannot write {path}: {reason}")]
    WriteFile { path: String, reason: String },
    #[error("{value} is not FIELD=VALUE")]
    BadAssignment { value: String },
    #[error("{ledger} has no field {field}")]
    UnknownField { ledger: String, field: String },
    #[error("{field}: {code}")]
    BadFieldValue { field: String, value: String, code: &'static str },
    #[error("the vendor form needs --vendor")]
    VendorRequired,
    #[error("--vendor applies to the vendor form only, not {form}")]
    VendorNotApplicable { form: String },
}

pub fn exit_code(e: &anyhow::Error) -> ExitCode {
    match e.downcast_ref::<CliError>() {
        Some(CliError::AuditBroken) => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    }
}

pub fn message(e: &anyhow::Error, lang: Lang) -> String {
    let body = if let Some(s) = e.downcast_ref::<StoreError>() {
        store_message(s, lang)
    } else if let Some(c) = e.downcast_ref::<mamori_web::checklist_io::ChecklistIoError>() {
        match c {
            mamori_web::checklist_io::ChecklistIoError::Store(s) => store_message(s, lang),
            other => mamori_web::checklist_io::error_text(lang, other),
        }
    } else if let Some(c) = e.downcast_ref::<mamori_web::scan_io::ScanIoError>() {
        match c {
            mamori_web::scan_io::ScanIoError::Store(s) => store_message(s, lang),
            other => mamori_web::scan_io::error_text(lang, other),
        }
    } else if let Some(c) = e.downcast_ref::<CliError>() {
        cli_message(c, lang)
    } else if let Some(t) = e.downcast_ref::<mamori_web::tls::TlsError>() {
        lang.ta("err-tls", &[("reason", problem_text(lang, t.code(), &t.to_string()).into())])
    } else if let Some(j) = e.downcast_ref::<mamori_jobs::JobError>() {
        match j {
            mamori_jobs::JobError::Store(s) => store_message(s, lang),
            other => lang.ta("err-job", &[("reason", other.to_string().into())]),
        }
    } else {
        tracing::info!(error = ?e, "unexpected error");
        lang.t("err-internal")
    };
    format!("{} {}", lang.t("err-prefix"), body)
}

fn store_message(e: &StoreError, lang: Lang) -> String {
    let s = |v: &str| Arg::from(v);
    match e {
        StoreError::BadUrl { problem, detail } => {
            lang.ta("err-db-bad-url", &[("reason", problem_text(lang, problem, detail).into())])
        }
        StoreError::Unreachable { target, reason } => lang
            .ta("err-db-unreachable", &[("target", s(target)), ("reason", problem_text(lang, reason, reason).into())]),
        StoreError::DataDirUnwritable { path, reason } => lang.ta(
            "err-data-dir-unwritable",
            &[("path", path.display().to_string().into()), ("reason", problem_text(lang, reason, reason).into())],
        ),
        StoreError::DataDirLocked { path, pid } => {
            lang.ta("err-data-dir-locked", &[("path", path.display().to_string().into()), ("pid", s(pid))])
        }
        StoreError::KeyMissing { path } => lang.ta("err-key-missing", &[("path", path.display().to_string().into())]),
        StoreError::NotInitialised { path } => {
            lang.ta("err-not-initialised", &[("path", path.display().to_string().into())])
        }
        StoreError::SchemaTooNew { found, supported } => {
            lang.ta("err-schema-too-new", &[("found", (*found).into()), ("supported", (*supported).into())])
        }
        StoreError::SchemaOutdated { found, supported } => {
            lang.ta("err-schema-outdated", &[("found", (*found).into()), ("supported", (*supported).into())])
        }
        StoreError::NotFound { what, id } => lang.ta("err-not-found", &[("what", s(what)), ("id", s(id))]),
        StoreError::Referenced { what, id } => lang.ta("err-referenced", &[("what", s(what)), ("id", s(id))]),
        StoreError::Conflict { what, id } => lang.ta("err-conflict", &[("what", s(what)), ("id", s(id))]),
        StoreError::JobFinished { id } => lang.ta("err-job-finished", &[("id", s(id))]),
        StoreError::InRow { index, source } => {
            lang.ta("err-in-row", &[("row", (*index + 1).into()), ("reason", store_message(source, lang).into())])
        }
        StoreError::Invalid(reason) => lang.ta("err-invalid", &[("reason", s(reason))]),
        StoreError::Record(r) => lang.ta("err-invalid", &[("reason", r.to_string().into())]),
        StoreError::Finding(f) => lang.ta("err-invalid", &[("reason", f.to_string().into())]),
        StoreError::MissingReference { kind, id } => {
            lang.ta("err-missing-reference", &[("what", s(kind.as_str())), ("id", s(id))])
        }
        StoreError::Corrupt(_) | StoreError::Migration(_) | StoreError::Database(_) => {
            tracing::info!(error = ?e, "database error");
            lang.ta("err-database", &[("code", s(e.code()))])
        }
    }
}

/// A classified problem (`problem-<code>` message) or, for an unclassified one, the first
/// line of the underlying message.
fn problem_text(lang: Lang, code: &str, detail: &str) -> String {
    lang.try_t(&format!("problem-{code}"))
        .unwrap_or_else(|| detail.lines().next().unwrap_or("").trim_end_matches('.').to_owned())
}

fn cli_message(e: &CliError, lang: Lang) -> String {
    match e {
        CliError::Bind { addr, reason } => {
            lang.ta("err-bind", &[("addr", addr.into()), ("reason", problem_text(lang, reason, reason).into())])
        }
        CliError::BadListen { value } => lang.ta("err-bad-listen", &[("value", value.into())]),
        CliError::BadId { value } => lang.ta("err-bad-id", &[("value", value.into())]),
        CliError::BadStatus { value } => lang.ta("err-bad-status", &[("value", value.into())]),
        CliError::AuditBroken => lang.t("err-audit-broken"),
        CliError::ReadFile { path, reason } => {
            lang.ta("err-read-file", &[("path", path.into()), ("reason", problem_text(lang, reason, reason).into())])
        }
        CliError::ImportUnreadable { code, row } => {
            let what = lang.try_t(&format!("import-read-{code}")).unwrap_or_else(|| (*code).to_owned());
            match row {
                Some(r) => lang.ta("err-import-unreadable-row", &[("what", what.into()), ("row", (*r).into())]),
                None => lang.ta("err-import-unreadable", &[("what", what.into())]),
            }
        }
        CliError::ImportNoHeader { ledger } => lang.ta("err-import-no-header", &[("ledger", ledger.into())]),
        CliError::ImportHasErrors { count } => lang.ta("err-import-has-errors", &[("count", (*count).into())]),
        CliError::JobNotSucceeded { status } => lang.ta("err-job-not-succeeded", &[("status", status.into())]),
        CliError::BadLedgerKind { value } => {
            let kinds: Vec<&str> = mamori_domain::record::RecordKind::ALL.iter().map(|k| k.as_str()).collect();
            lang.ta("err-bad-ledger-kind", &[("value", value.into()), ("kinds", kinds.join(", ").into())])
        }
        CliError::NoInstitution => lang.t("err-no-institution"),
        CliError::InstitutionRequired { count } => lang.ta("err-institution-required", &[("count", (*count).into())]),
        CliError::NotRepresentable { row, column, character } => lang.ta(
            "err-not-representable",
            &[("row", (*row).into()), ("column", column.into()), ("char", character.to_string().into())],
        ),
        CliError::VendorRequired => lang.t("err-vendor-required"),
        CliError::VendorNotApplicable { form } => lang.ta("err-vendor-not-applicable", &[("form", form.into())]),
        CliError::BadAssignment { value } => lang.ta("err-bad-assignment", &[("value", value.into())]),
        CliError::UnknownField { ledger, field } => {
            lang.ta("err-unknown-field", &[("ledger", ledger.into()), ("field", field.into())])
        }
        CliError::BadFieldValue { field, value, code } => lang.ta(
            "err-bad-field-value",
            &[
                ("field", field.into()),
                ("value", value.into()),
                ("what", lang.try_t(&format!("import-problem-{code}")).unwrap_or_else(|| (*code).to_owned()).into()),
            ],
        ),
        CliError::Export { reason } => lang.ta("err-export", &[("reason", reason.into())]),
        CliError::WriteFile { path, reason } => {
            lang.ta("err-write-file", &[("path", path.into()), ("reason", problem_text(lang, reason, reason).into())])
        }
    }
}
