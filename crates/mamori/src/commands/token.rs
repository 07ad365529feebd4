//! `mamori token create|list|revoke`: API tokens for `/api/v1`. Running the CLI on the
//! server with access to its data is administrator access, so the CLI may mint tokens.
//! The secret is shown once and only its hash is stored.

use super::{Ctx, when};
use crate::cli::TokenCommand;
use crate::failure::CliError;
use crate::output;
use mamori_domain::{ApiTokenId, time_fmt};
use mamori_store::{ApiToken, hash_secret, new_secret};
use std::process::ExitCode;

pub async fn run(ctx: &Ctx, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = ctx.open().await?;
    match cmd {
        TokenCommand::Create { name } => {
            let name = name.trim().to_owned();
            if name.is_empty() {
                return Err(mamori_store::StoreError::Invalid(ctx.t("token-name-required")).into());
            }
            let secret = format!("mamori_{}", new_secret());
            let token = ApiToken {
                id: ApiTokenId::new(),
                name,
                token_hash: hash_secret(&secret),
                user_id: None,
                institution_id: None,
                role: None,
                created_by: ctx.actor.clone(),
                created_at: time_fmt::now(),
                last_used_at: None,
                revoked_at: None,
            };
            store.insert_api_token(&token).await?;
            println!(
                "{}",
                ctx.ta("token-created", &[("name", token.name.clone().into()), ("id", token.id.to_string().into())])
            );
            println!("    {secret}");
            println!("{}", ctx.t("token-shown-once"));
        }
        TokenCommand::List => {
            let tokens = store.list_api_tokens(None).await?;
            let header = ["col-id", "col-name", "col-created", "col-last-used", "col-status"].map(|k| ctx.t(k));
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        t.name.clone(),
                        when(t.created_at),
                        t.last_used_at.map(when).unwrap_or_default(),
                        ctx.t(if t.revoked_at.is_some() { "token-revoked-state" } else { "token-active-state" }),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("{}", ctx.t("token-none"));
            } else {
                output::table(&header, &rows);
            }
        }
        TokenCommand::Revoke { id } => {
            let parsed: ApiTokenId = id.parse().map_err(|_| CliError::BadId { value: id.clone() })?;
            if store.revoke_api_token(parsed, &ctx.actor).await? {
                println!("{}", ctx.ta("token-revoked", &[("id", id.into())]));
            } else {
                return Err(mamori_store::StoreError::NotFound { what: "token", id }.into());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
