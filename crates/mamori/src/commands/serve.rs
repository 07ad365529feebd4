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
    // The lock comes before the database is touched: a second serve changes nothing.
    let data_dir = ctx.data_dir(true)?;
    let _lock = match ctx.db {
        DbSettings::Sqlite { .. } => Some(data_dir.lock_serve()?),
        DbSettings::Postgres { .. } => None,
    };
    let (store, _) = init::prepare(ctx).await?;
    // The key that seals secrets: new only while no one has enrolled an authenticator.
    let setup_done = store.get_setting(mamori_store::SETUP_DONE_SETTING).await?.is_some();
    let key = mamori_web::InstallationKey::from_bytes(data_dir.installation_key(!setup_done)?);
    let runner = JobRunner::new(store.clone());
    let interrupted = runner.reconcile().await?;
    if interrupted > 0 {
        eprintln!("{}", ctx.ta("serve-interrupted-jobs", &[("count", interrupted.into())]));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Bind { addr: addr.to_string(), reason: mamori_store::classify_io(&e) })?;
    let local = listener.local_addr()?;
    // Off loopback, TLS unless plain HTTP is asked for explicitly.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(mamori_web::tls::load(cert, key)?),
        _ if args.tls || (!addr.ip().is_loopback() && !args.insecure_http) => {
            let names: Vec<String> = if addr.ip().is_unspecified() { vec![] } else { vec![addr.ip().to_string()] };
            Some(mamori_web::tls::self_signed(data_dir.path(), &names)?)
        }
        _ => None,
    };
    init::issue_setup_token(ctx, &*store).await?;
    if tls.is_none() && !addr.ip().is_loopback() {
        eprintln!("{}", ctx.t("serve-insecure-warning"));
    }
    if let Some(t) = &tls {
        let key = if t.self_signed { "serve-tls-self-signed" } else { "serve-tls-certificate" };
        println!("{}", ctx.ta(key, &[("path", t.cert_path.display().to_string().into())]));
        println!("    SHA-256 {}", t.fingerprint_sha256);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("{}", ctx.ta("serve-listening", &[("url", format!("{scheme}://{local}/").into())]));
    std::io::stdout().flush().ok();

    let reconciler = runner.clone();
    let sweeper = store.clone();
    let scheduler = (runner.clone(), store.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(e) = reconciler.reconcile().await {
                tracing::warn!(error = %e, "job reconciliation failed");
            }
            if let Err(e) = sweeper.delete_expired_sessions(mamori_domain::time_fmt::now()).await {
                tracing::warn!(error = %e, "removing expired sessions failed");
            }
            // Monthly scans whose day and hour have come.
            if let Err(e) = mamori_web::scan_io::run_due(&scheduler.0, scheduler.1.clone()).await {
                tracing::warn!(error = %e, "starting scheduled scans failed");
            }
        }
    });
    let state = mamori_web::AppState::new(store, runner, key, tls.is_some());
    match tls {
        Some(t) => mamori_web::tls::serve_tls(listener, mamori_web::router(state), t.config, shutdown_signal()).await?,
        None => mamori_web::serve(listener, state, shutdown_signal()).await?,
    }
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
