//! `mamori checklist show|answer|export|edition`: the MHLW checklist of one institution and
//! fiscal year, answered from the command line with the same rules as the web UI.

use super::Ctx;
use super::ledger::{scope, write_atomically};
use crate::cli::{AnswerArg, ChecklistCommand, ChecklistFormat, ChecklistTarget, EditionCommand};
use crate::failure::CliError;
use crate::output;
use mamori_checklist::answer::Override;
use mamori_checklist::{Answer, AnswerValue, Edition, ProposedValue};
use mamori_store::{ChecklistKey, Scope, Store};
use mamori_web::checklist_io::{self, ChecklistIoError};
use std::process::ExitCode;
use std::sync::Arc;

struct Target {
    store: Arc<dyn Store>,
    scope: Scope,
    edition: Edition,
    key: ChecklistKey,
    institution_name: String,
}

/// The edition, form and institution a command works on.
async fn target(ctx: &Ctx, t: &ChecklistTarget) -> anyhow::Result<Target> {
    let store = ctx.open().await?;
    let scope = scope(&*store, t.institution.as_deref()).await?;
    let institution = store.institution(&scope).await?;
    let fiscal_year = match t.fy {
        Some(fy) => fy,
        None => *checklist_io::fiscal_years(&*store)
            .await?
            .first()
            .ok_or(ChecklistIoError::NoEdition { fiscal_year: checklist_io::fiscal_year_of(checklist_io::today()) })?,
    };
    let edition = checklist_io::edition_for(&*store, fiscal_year).await?;
    let form = match &t.form {
        Some(f) => f.clone(),
        None => checklist_io::own_form(institution.kind, &edition),
    };
    if edition.form(&form).is_none() {
        return Err(ChecklistIoError::Answer(mamori_checklist::AnswerError::UnknownForm {
            edition: edition.id.clone(),
            form,
        })
        .into());
    }
    let vendor_form = edition.form(&form).is_some_and(|f| f.respondent == mamori_checklist::Respondent::Vendor);
    let vendor = match (&t.vendor, vendor_form) {
        (Some(v), true) => Some(find_vendor(&*store, &scope, v).await?),
        (None, true) => return Err(CliError::VendorRequired.into()),
        (Some(_), false) => return Err(CliError::VendorNotApplicable { form }.into()),
        (None, false) => None,
    };
    let key = ChecklistKey { fiscal_year, form, vendor };
    Ok(Target { store, scope, edition, key, institution_name: institution.name })
}

/// A vendor of 事業者台帳 by id or by name.
async fn find_vendor(store: &dyn Store, scope: &Scope, v: &str) -> anyhow::Result<mamori_domain::RecordId> {
    let rows = store.list_rows(scope, mamori_domain::record::RecordKind::Vendors, &Default::default()).await?;
    let wanted = v.trim();
    rows.iter()
        .find(|r| r.id.to_string() == wanted || r.text("name").ok().flatten().as_deref() == Some(wanted))
        .map(|r| r.id)
        .ok_or_else(|| mamori_store::StoreError::NotFound { what: "vendors", id: wanted.to_owned() }.into())
}

fn parse_date(s: &str) -> Result<time::Date, CliError> {
    mamori_ledger::normalize::parse_date_text(s.trim()).map_err(|e| CliError::BadFieldValue {
        field: "date".into(),
        value: s.into(),
        code: e.code(),
    })
}

pub async fn run(ctx: &Ctx, cmd: ChecklistCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ChecklistCommand::Show { target: t, json } => show(ctx, &t, json).await,
        ChecklistCommand::Answer { item, target: t, value, device_class, confirmed, target_date, note, reason } => {
            let tg = target(ctx, &t).await?;
            let mut answer = Answer::new(
                item.trim(),
                device_class.as_deref(),
                match value {
                    AnswerArg::Yes => AnswerValue::Yes,
                    AnswerArg::No => AnswerValue::No,
                    AnswerArg::Unanswered => AnswerValue::Unanswered,
                },
            );
            answer.confirmed_on = Some(match confirmed {
                Some(d) => parse_date(&d)?,
                None => checklist_io::today(),
            });
            answer.target_date = target_date.as_deref().map(parse_date).transpose()?;
            answer.note = note.filter(|n| !n.trim().is_empty());
            // Differing from mamori's proposal is an override: it needs a reason.
            let evaluation =
                checklist_io::evaluate(&*tg.store, &tg.scope, &tg.edition, &tg.key.form, checklist_io::today()).await?;
            if let Some(p) = evaluation.get(&answer.item_id, answer.device_class.as_deref()) {
                answer.evidence = p.evidence.clone();
                let differs = matches!(
                    (p.value, answer.value),
                    (ProposedValue::Yes, AnswerValue::No) | (ProposedValue::No, AnswerValue::Yes)
                );
                if differs {
                    answer.overridden =
                        Some(Override { by: ctx.actor.clone(), reason: reason.unwrap_or_default(), proposed: p.value });
                }
            }
            // Other answers of the form stay as they are; this one replaces its slot.
            checklist_io::save_answers(&*tg.store, &tg.scope, &tg.edition, &tg.key, &[answer.clone()], &ctx.actor)
                .await?;
            println!(
                "{}",
                ctx.ta(
                    "checklist-answered",
                    &[("item", answer.item_id.clone().into()), ("value", answer.value.label_ja().into())]
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        ChecklistCommand::Export { target: t, format, output } => {
            let tg = target(ctx, &t).await?;
            let answers = checklist_io::answers(&*tg.store, &tg.scope, &tg.key).await?;
            let evaluation =
                checklist_io::evaluate(&*tg.store, &tg.scope, &tg.edition, &tg.key.form, checklist_io::today()).await?;
            let bytes = match format {
                ChecklistFormat::Xlsx => mamori_checklist::export_xlsx(
                    &tg.edition,
                    &tg.key.form,
                    &tg.institution_name,
                    &answers,
                    Some(&evaluation),
                )
                .map_err(ChecklistIoError::from)?,
                ChecklistFormat::Pdf => checklist_io::export_pdf(
                    &tg.edition,
                    &tg.key.form,
                    &tg.institution_name,
                    &answers,
                    Some(&evaluation),
                )?,
            };
            write_atomically(&output, &bytes)?;
            let draft = mamori_domain::audit::AuditDraft::new(&ctx.actor, "checklist.export")
                .object("checklist", format!("{}/{}", tg.key.fiscal_year, tg.key.form))
                .details(serde_json::json!({
                    "format": match format { ChecklistFormat::Xlsx => "xlsx", ChecklistFormat::Pdf => "pdf" },
                    "file": output.display().to_string(),
                }));
            tg.store.append_audit(tg.scope.chain(), &draft).await?;
            println!("{}", ctx.ta("checklist-exported", &[("path", output.display().to_string().into())]));
            Ok(ExitCode::SUCCESS)
        }
        ChecklistCommand::Edition(EditionCommand::List) => {
            let store = ctx.open().await?;
            let rows: Vec<Vec<String>> = checklist_io::editions(&*store)
                .await?
                .iter()
                .map(|e| {
                    vec![
                        e.fiscal_year.to_string(),
                        e.id.clone(),
                        e.label_ja.clone(),
                        e.forms.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", "),
                    ]
                })
                .collect();
            output::table(&[ctx.t("col-fy"), ctx.t("col-id"), ctx.t("col-name"), ctx.t("col-forms")], &rows);
            Ok(ExitCode::SUCCESS)
        }
        ChecklistCommand::Edition(EditionCommand::Import { file, yes }) => {
            let bytes = std::fs::read(&file).map_err(|e| CliError::ReadFile {
                path: file.display().to_string(),
                reason: mamori_store::classify_io(&e),
            })?;
            let imported = mamori_checklist::import_edition_xlsx(&bytes).map_err(ChecklistIoError::from)?;
            let store = ctx.open().await?;
            let fy = imported.fiscal_year.unwrap_or_else(|| checklist_io::fiscal_year_of(checklist_io::today()));
            // Compare with the edition used for that year, or the newest one as the base.
            let all = checklist_io::editions(&*store).await?;
            let base = all
                .iter()
                .rev()
                .find(|e| e.fiscal_year == fy)
                .or_else(|| all.iter().max_by_key(|e| e.fiscal_year))
                .ok_or(ChecklistIoError::NoEdition { fiscal_year: fy })?;
            let diff = mamori_checklist::diff(base, &imported);
            for line in checklist_io::diff_lines(ctx.lang, base, &diff) {
                println!("{line}");
            }
            let id = format!("fy{fy}-{}", &blake3::hash(&bytes).to_hex()[..8]);
            let edition =
                mamori_checklist::edition_from_import(base, &imported, &id).map_err(ChecklistIoError::from)?;
            let coverage = mamori_checklist::rules_coverage(&edition, &mamori_checklist::rules::ledger_rules());
            println!(
                "{}",
                ctx.ta(
                    "checklist-coverage",
                    &[
                        ("manual", coverage.items_without_rule.len().into()),
                        ("dangling", coverage.rules_without_item.len().into())
                    ]
                )
            );
            if !yes {
                println!("{}", ctx.t("checklist-import-dry-run"));
                return Ok(ExitCode::SUCCESS);
            }
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            checklist_io::save_edition(&*store, &edition, &name, &bytes, &ctx.actor).await?;
            println!("{}", ctx.ta("checklist-import-saved", &[("id", id.into()), ("fy", i64::from(fy).into())]));
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn show(ctx: &Ctx, t: &ChecklistTarget, json: bool) -> anyhow::Result<ExitCode> {
    let tg = target(ctx, t).await?;
    let answers = checklist_io::answers(&*tg.store, &tg.scope, &tg.key).await?;
    let today = checklist_io::today();
    let evaluation = checklist_io::evaluate(&*tg.store, &tg.scope, &tg.edition, &tg.key.form, today).await?;
    let form = tg.edition.form(&tg.key.form).expect("checked in target()");
    if json {
        output::json(&serde_json::json!({
            "edition": tg.edition.id,
            "institution": tg.scope.institution().to_string(),
            "fiscal_year": tg.key.fiscal_year,
            "form": tg.key.form,
            "answers": answers,
            "proposals": evaluation.proposals,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} {}（{}）", tg.edition.label_ja, form.title_ja, tg.institution_name);
    let mut rows = Vec::new();
    for item in form.items() {
        for slot in item.answer_slots() {
            let answer = answers.iter().find(|a| a.item_id == item.id && a.device_class.as_deref() == slot);
            let proposal = evaluation.get(&item.id, slot);
            let mut text: String = item.display_text().chars().take(40).collect();
            if let Some(c) = item.wording_caveat_ja() {
                text.push_str(&format!(" 【{c}】"));
            }
            rows.push(vec![
                item.id.clone(),
                slot.map(|c| tg.edition.device_class_label(c).to_owned()).unwrap_or_default(),
                text,
                answer.map_or(AnswerValue::Unanswered, |a| a.value).label_ja().to_owned(),
                answer.and_then(|a| a.confirmed_on).map(|d| d.to_string()).unwrap_or_default(),
                answer.and_then(|a| a.target_date).map(|d| d.to_string()).unwrap_or_default(),
                proposal.map(|p| p.value.label_ja().to_owned()).unwrap_or_default(),
            ]);
        }
    }
    let header = ["col-item", "col-class", "col-wording", "col-answer", "col-confirmed", "col-target", "col-proposal"]
        .map(|k| ctx.t(k));
    output::table(&header, &rows);
    let p =
        mamori_checklist::progress(&tg.edition, &tg.key.form, &answers, today, 60).map_err(ChecklistIoError::from)?;
    println!(
        "{}",
        ctx.ta(
            "checklist-progress",
            &[
                ("yes", p.total.yes.into()),
                ("no", p.total.no.into()),
                ("unanswered", p.total.unanswered.into()),
                ("unconfirmed", p.unconfirmed_wording.into()),
            ]
        )
    );
    Ok(ExitCode::SUCCESS)
}
