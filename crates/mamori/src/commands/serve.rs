//! `mamori serve`: initialises on first run, takes the data directory's lock (SQLite),
//! reconciles jobs left by a dead process, and serves HTTP on loopback unless told otherwise.

use super::{Ctx, init};
use crate::cli::ServeArgs;
use crate::failure::CliError;
use mamori_jobs::JobRunner;
use mamori_store::DbSettings;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let addr: SocketAddr = args.listen.parse().map_err(|_| CliError::BadListen { value: args.listen.clone() })?;
    if !addr.ip().is_loopback() && !args.insecure_http {
        // TLS for LAN access arrives with the web UI; until then only loopback, or an
        // explicit, visible opt-out.
        return Err(CliError::NotLoopback { addr: addr.to_string() }.into());
    }
    // The lock comes before the database is touched: a second serve changes nothing.
    let data_dir = ctx.data_dir(true)?;
    let _lock = match ctx.db {
        DbSettings::Sqlite { .. } => Some(data_dir.lock_serve()?),
        DbSettings::Postgres { .. } => None,
    };
    let (store, _) = init::prepare(ctx).await?;
    let runner = JobRunner::new(store.clone());
    let interrupted = runner.reconcile().await?;
    if interrupted > 0 {
        eprintln!("{}", ctx.ta("serve-interrupted-jobs", &[("count", interrupted.into())]));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Bind { addr: addr.to_string(), reason: mamori_store::classify_io(&e) })?;
    let local = listener.local_addr()?;
    init::issue_setup_token(ctx, &*store).await?;
    if !addr.ip().is_loopback() {
        eprintln!("{}", ctx.t("serve-insecure-warning"));
    }
    println!("{}", ctx.ta("serve-listening", &[("url", format!("http://{local}/").into())]));
    std::io::stdout().flush().ok();

    let reconciler = runner.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(e) = reconciler.reconcile().await {
                tracing::warn!(error = %e, "job reconciliation failed");
            }
        }
    });
    let key = mamori_web::InstallationKey::from_bytes(data_dir.installation_key()?);
    let state = mamori_web::AppState::new(store, runner, key, false);
    mamori_web::serve(listener, state, shutdown_signal()).await?;
    println!("{}", ctx.t("serve-stopped"));
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
