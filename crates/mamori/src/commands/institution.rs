//! `mamori institution add|list`: the tenants.

use super::Ctx;
use crate::cli::{InstitutionCommand, KindArg};
use crate::output;
use mamori_domain::institution::{Institution, InstitutionKind};
use std::process::ExitCode;

pub async fn run(ctx: &Ctx, cmd: InstitutionCommand) -> anyhow::Result<ExitCode> {
    let store = ctx.open().await?;
    match cmd {
        InstitutionCommand::Add { name, kind, code } => {
            let kind = match kind {
                KindArg::Clinic => InstitutionKind::Clinic,
                KindArg::Hospital => InstitutionKind::Hospital,
                KindArg::Pharmacy => InstitutionKind::Pharmacy,
                KindArg::Other => InstitutionKind::Other,
            };
            let mut i = Institution::new(&name, kind).map_err(mamori_store::StoreError::from)?;
            if let Some(code) = code {
                i = i.with_medical_code(&code).map_err(mamori_store::StoreError::from)?;
            }
            store.create_institution(&i, &ctx.actor).await?;
            println!(
                "{}",
                ctx.ta("institution-created", &[("name", i.name.clone().into()), ("id", i.id.to_string().into())])
            );
        }
        InstitutionCommand::List { json } => {
            let list = store.list_institutions().await?;
            if json {
                output::json(&list);
            } else if list.is_empty() {
                println!("{}", ctx.t("institution-none"));
            } else {
                let header = ["col-id", "col-name", "col-kind", "col-code"].map(|k| ctx.t(k));
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|i| {
                        vec![
                            i.id.to_string(),
                            if i.demo { format!("{} {}", i.name, ctx.t("demo-mark")) } else { i.name.clone() },
                            ctx.t(&format!("institution-kind-{}", i.kind.as_str())),
                            i.medical_code.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&header, &rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
