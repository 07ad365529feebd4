//! Every flag and subcommand, in one place. Help texts come from the message resources
//! (`cli-…` keys), so `--help` follows `--lang` / `LANG` like every other message.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use mamori_i18n::Lang;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "mamori", version)]
pub struct Cli {
    /// Data directory (SQLite database, lock, evidence files).
    #[arg(long, global = true, env = "MAMORI_DATA_DIR", default_value = "mamori-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL instead of the embedded SQLite: postgres://user:password@host:port/database
    #[arg(long, global = true, env = "MAMORI_DB", hide_env_values = true)]
    pub db: Option<String>,
    /// Message language (ja or en).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
    /// Log more (to standard error).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    Ja,
    En,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init,
    Serve(ServeArgs),
    Migrate,
    #[command(subcommand)]
    Institution(InstitutionCommand),
    #[command(subcommand)]
    Jobs(JobsCommand),
    #[command(subcommand)]
    Audit(AuditCommand),
    #[command(subcommand)]
    Token(TokenCommand),
    #[command(subcommand)]
    Ledger(LedgerCommand),
    Demo {
        #[arg(long = "which", value_enum, default_value = "all")]
        which: DemoArg,
    },
    #[command(subcommand)]
    Checklist(ChecklistCommand),
    #[command(subcommand)]
    Scan(ScanCommand),
    #[command(subcommand)]
    Findings(FindingsCommand),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScanFormat {
    NmapXml,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    Run {
        /// 医療機器セーフ | 標準 | 全ポート (or medical-safe | standard | full)
        #[arg(long)]
        profile: String,
        #[arg(long)]
        segment: Option<String>,
        #[arg(long = "target", id = "scan_target")]
        targets: Vec<String>,
        #[arg(long)]
        institution: Option<String>,
    },
    Export {
        #[arg(long = "scan", id = "scan_id")]
        scan: Option<String>,
        #[arg(long = "format", id = "scan_format", value_enum)]
        format: ScanFormat,
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long)]
        institution: Option<String>,
    },
    Import {
        file: PathBuf,
        #[arg(long)]
        institution: Option<String>,
    },
    List {
        #[arg(long)]
        institution: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    List {
        #[arg(long)]
        institution: Option<String>,
        #[arg(long = "format", id = "findings_format", value_enum, default_value = "table")]
        format: ListFormat,
    },
}

/// Which filled form: fiscal year (default: the newest edition), form (default: the
/// institution's own), institution (default: the only one).
#[derive(Debug, Args)]
pub struct ChecklistTarget {
    #[arg(long)]
    pub fy: Option<i32>,
    #[arg(long)]
    pub form: Option<String>,
    /// For 事業者確認用: the vendor (its name in 事業者台帳, or its ID).
    #[arg(long)]
    pub vendor: Option<String>,
    #[arg(long)]
    pub institution: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AnswerArg {
    Yes,
    No,
    Unanswered,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChecklistFormat {
    Xlsx,
    Pdf,
}

#[derive(Debug, Subcommand)]
pub enum ChecklistCommand {
    Show {
        #[command(flatten)]
        target: ChecklistTarget,
        #[arg(long)]
        json: bool,
    },
    Answer {
        item: String,
        #[command(flatten)]
        target: ChecklistTarget,
        #[arg(long = "value", value_enum)]
        value: AnswerArg,
        #[arg(long = "class")]
        device_class: Option<String>,
        #[arg(long)]
        confirmed: Option<String>,
        #[arg(long)]
        target_date: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    Export {
        #[command(flatten)]
        target: ChecklistTarget,
        #[arg(long = "format", id = "checklist_format", value_enum)]
        format: ChecklistFormat,
        #[arg(short, long)]
        output: PathBuf,
    },
    #[command(subcommand)]
    Edition(EditionCommand),
}

#[derive(Debug, Subcommand)]
pub enum EditionCommand {
    Import {
        file: PathBuf,
        #[arg(long)]
        yes: bool,
    },
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DemoArg {
    Clinic,
    Hospital,
    All,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8780")]
    pub listen: String,
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// HTTPS with a self-signed certificate even on loopback.
    #[arg(long, conflicts_with_all = ["tls_cert", "insecure_http"])]
    pub tls: bool,
    #[arg(long, conflicts_with = "tls_cert")]
    pub insecure_http: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Clinic,
    Hospital,
    Pharmacy,
    Other,
}

#[derive(Debug, Subcommand)]
pub enum InstitutionCommand {
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "clinic")]
        kind: KindArg,
        #[arg(long)]
        code: Option<String>,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    List {
        #[arg(long)]
        institution: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    Show {
        id: String,
        #[arg(long)]
        follow: bool,
        #[arg(long)]
        json: bool,
    },
    Cancel {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    Verify {
        #[arg(long)]
        json: bool,
    },
    Log {
        #[arg(long)]
        institution: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    Create {
        #[arg(long)]
        name: String,
    },
    List,
    Revoke {
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsvEncodingArg {
    Cp932,
    Utf8Bom,
}

/// The text encoding of an imported CSV (XLSX/XLS/ODS carry their own).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportEncodingArg {
    Auto,
    Utf8,
    Cp932,
}

/// The ledger's stable name (`assets`, `staff`, …). Parsed by the command rather than by
/// clap, so a wrong name is one localised line like every other input error.
#[derive(Debug, Args)]
pub struct LedgerKindArg {
    #[arg(long = "kind", id = "ledger_kind", value_name = "KIND")]
    pub kind: String,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    Import {
        file: PathBuf,
        #[command(flatten)]
        kind: LedgerKindArg,
        #[arg(long)]
        institution: Option<String>,
        #[arg(long = "encoding", id = "import_encoding", value_enum, default_value = "auto")]
        encoding: ImportEncodingArg,
        #[arg(long)]
        yes: bool,
    },
    List {
        #[command(flatten)]
        kind: LedgerKindArg,
        #[arg(long)]
        institution: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        sort: Option<String>,
        #[arg(long)]
        desc: bool,
    },
    Show {
        record: String,
        #[command(flatten)]
        kind: LedgerKindArg,
        #[arg(long)]
        institution: Option<String>,
        #[arg(long)]
        json: bool,
    },
    Set {
        record: String,
        #[command(flatten)]
        kind: LedgerKindArg,
        #[arg(long)]
        institution: Option<String>,
        #[arg(required = true, value_name = "FIELD=VALUE")]
        values: Vec<String>,
    },
    Delete {
        record: String,
        #[command(flatten)]
        kind: LedgerKindArg,
        #[arg(long)]
        institution: Option<String>,
    },
    Export {
        #[command(flatten)]
        kind: LedgerKindArg,
        #[arg(long)]
        institution: Option<String>,
        #[arg(long, value_enum)]
        format: FileFormat,
        #[arg(long, value_enum, default_value = "cp932")]
        encoding: CsvEncodingArg,
        #[arg(short, long)]
        output: PathBuf,
    },
    Template {
        #[command(flatten)]
        kind: LedgerKindArg,
        #[arg(long, value_enum, default_value = "xlsx")]
        format: FileFormat,
        #[arg(long, value_enum, default_value = "cp932")]
        encoding: CsvEncodingArg,
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// `--lang` is needed before clap runs, to localise the help clap prints.
pub fn lang_flag(args: impl Iterator<Item = String>) -> Option<String> {
    let mut args = args.skip(1);
    while let Some(a) = args.next() {
        if let Some(v) = a.strip_prefix("--lang=") {
            return Some(v.to_owned());
        }
        if a == "--lang" {
            return args.next();
        }
    }
    None
}

/// Sets about/help texts from `cli-<path>` and `cli-arg-<id>` messages, recursively.
fn localise(mut cmd: clap::Command, path: &str, lang: Lang) -> clap::Command {
    if let Some(about) = lang.try_t(&format!("cli-{path}")) {
        cmd = cmd.about(about);
    }
    let ids: Vec<String> = cmd.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in ids {
        let key = format!("cli-arg-{}", id.replace('_', "-"));
        if let Some(help) = lang.try_t(&key) {
            cmd = cmd.mut_arg(id, |a| a.help(help));
        }
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_owned()).collect();
    for name in subs {
        let sub_path = if path == "mamori" { name.clone() } else { format!("{path}-{name}") };
        cmd = cmd.mut_subcommand(&name, |s| localise(s, &sub_path, lang));
    }
    cmd
}

pub fn command(lang: Lang) -> clap::Command {
    localise(Cli::command(), "mamori", lang)
}

/// Parses the process arguments; on a usage error clap prints it and exits with 2.
pub fn parse(lang: Lang) -> Cli {
    let matches = command(lang).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_and_argument_has_help_in_both_languages() {
        fn walk(cmd: &clap::Command, path: &str, lang: Lang, missing: &mut Vec<String>) {
            if lang.try_t(&format!("cli-{path}")).is_none() {
                missing.push(format!("cli-{path}"));
            }
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                let key = format!("cli-arg-{}", id.replace('_', "-"));
                if lang.try_t(&key).is_none() {
                    missing.push(key);
                }
            }
            for s in cmd.get_subcommands() {
                let p = if path == "mamori" { s.get_name().to_owned() } else { format!("{path}-{}", s.get_name()) };
                walk(s, &p, lang, missing);
            }
        }
        for lang in [Lang::Ja, Lang::En] {
            let mut missing = Vec::new();
            walk(&Cli::command(), "mamori", lang, &mut missing);
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
        Cli::command().debug_assert();
    }

    #[test]
    fn lang_flag_is_found_before_parsing() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>().into_iter();
        assert_eq!(lang_flag(args(&["mamori", "--lang", "en", "init"])).as_deref(), Some("en"));
        assert_eq!(lang_flag(args(&["mamori", "init", "--lang=ja"])).as_deref(), Some("ja"));
        assert_eq!(lang_flag(args(&["mamori", "init"])), None);
    }
}
