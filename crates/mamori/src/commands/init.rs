//! `mamori init` and `mamori migrate`, and the first-run setup token they share with serve.

use super::Ctx;
use mamori_domain::audit::AuditDraft;
use mamori_store::{
    DbSettings, OpenOptions, SETUP_DONE_SETTING, SETUP_TOKEN_SETTING, Store, StoreError, hash_secret, new_secret,
};
use std::process::ExitCode;
use std::sync::Arc;

/// Creates the data directory and database (or checks existing ones) and migrates.
pub async fn prepare(ctx: &Ctx) -> anyhow::Result<(Arc<dyn Store>, bool)> {
    let existed = match &ctx.db {
        DbSettings::Sqlite { path } => {
            ctx.data_dir(true)?;
            path.exists()
        }
        DbSettings::Postgres { .. } => true,
    };
    let store = mamori_store::open(&ctx.db, OpenOptions { create: true, migrate: true }).await?;
    Ok((store, existed))
}

/// While no administrator exists, issues a new one-time setup token (replacing any earlier
/// one, which may have been lost) and prints it. Only its hash is stored.
pub async fn issue_setup_token(ctx: &Ctx, store: &dyn Store) -> anyhow::Result<()> {
    if store.get_setting(SETUP_DONE_SETTING).await?.is_some() {
        return Ok(());
    }
    let token = new_secret();
    let audit = AuditDraft::new(&ctx.actor, "setup.token_issued");
    store.set_setting(SETUP_TOKEN_SETTING, &hash_secret(&token), &audit).await?;
    println!("{}", ctx.t("setup-token-heading"));
    println!("    {token}");
    println!("{}", ctx.t("setup-token-hint"));
    Ok(())
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let (store, existed) = prepare(ctx).await?;
    let key = if existed { "init-existing" } else { "init-created" };
    println!(
        "{}",
        ctx.ta(key, &[("location", ctx.db.redacted().into()), ("backend", store.backend().as_str().into())])
    );
    issue_setup_token(ctx, &*store).await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn migrate(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    // No migration under a running server on the same SQLite directory.
    let _lock = match &ctx.db {
        DbSettings::Sqlite { .. } => Some(ctx.data_dir(false)?.lock_serve()?),
        DbSettings::Postgres { .. } => None,
    };
    match ctx.open().await {
        Ok(store) => {
            let s = store.schema_status().await?;
            println!("{}", ctx.ta("migrate-up-to-date", &[("version", s.current.into())]));
        }
        Err(e) => match e.downcast_ref::<StoreError>() {
            Some(StoreError::SchemaOutdated { found, supported }) => {
                let (found, supported) = (*found, *supported);
                mamori_store::open(&ctx.db, OpenOptions { create: false, migrate: true }).await?;
                println!("{}", ctx.ta("migrate-done", &[("from", found.into()), ("to", supported.into())]));
            }
            _ => return Err(e),
        },
    }
    Ok(ExitCode::SUCCESS)
}
