//! One module per command. Each opens what it needs through [`Ctx`] and prints results in
//! the user's language; errors bubble up to `failure` for one-line messages.

mod audit;
mod checklist;
mod init;
mod institution;
mod jobs;
mod ledger;
mod scan;
mod serve;
mod token;

use crate::cli::{Cli, Command};
use mamori_i18n::Lang;
use mamori_store::{DataDir, DbSettings, OpenOptions, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

pub struct Ctx {
    pub lang: Lang,
    pub data_dir: PathBuf,
    pub db: DbSettings,
    /// Who is acting, for the audit log: `cli:<OS user>`.
    pub actor: String,
}

impl Ctx {
    /// The data directory, created if `create` (needed for SQLite; with PostgreSQL only
    /// `serve` uses it).
    pub fn data_dir(&self, create: bool) -> anyhow::Result<DataDir> {
        Ok(DataDir::prepare(&self.data_dir, create)?)
    }

    /// Opens the store without creating or migrating anything.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        if matches!(self.db, DbSettings::Sqlite { .. }) {
            self.data_dir(false)?;
        }
        Ok(mamori_store::open(&self.db, OpenOptions { create: false, migrate: false }).await?)
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub fn ta(&self, key: &str, args: &[(&'static str, mamori_i18n::Arg)]) -> String {
        self.lang.ta(key, args)
    }
}

fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

pub async fn run(cli: Cli, lang: Lang) -> anyhow::Result<ExitCode> {
    let db = DbSettings::resolve(cli.db.as_deref(), &cli.data_dir)?;
    let ctx = Ctx { lang, data_dir: cli.data_dir, db, actor: format!("cli:{}", os_user()) };
    match cli.command {
        Command::Init => init::run(&ctx).await,
        Command::Serve(args) => serve::run(&ctx, args).await,
        Command::Migrate => init::migrate(&ctx).await,
        Command::Institution(c) => institution::run(&ctx, c).await,
        Command::Jobs(c) => jobs::run(&ctx, c).await,
        Command::Audit(c) => audit::run(&ctx, c).await,
        Command::Token(c) => token::run(&ctx, c).await,
        Command::Ledger(c) => ledger::run(&ctx, c).await,
        Command::Demo { which } => ledger::demo(&ctx, which).await,
        Command::Checklist(c) => checklist::run(&ctx, c).await,
        Command::Scan(c) => scan::run(&ctx, c).await,
        Command::Findings(c) => scan::findings(&ctx, c).await,
    }
}

/// Formats an instant for people: local offset is unknown to a server, so UTC, minutes.
pub fn when(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}
