//! Terminal output: logging to standard error, aligned tables (CJK-aware), progress bars.

use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::filter::LevelFilter;

/// Logs go to standard error; `MAMORI_LOG=debug` or `-v` shows more. Secrets are never
/// logged: database URLs are printed redacted and tokens never reach a log call.
pub fn init_logging(verbose: bool) {
    let level = match std::env::var("MAMORI_LOG").ok().as_deref() {
        Some("trace") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("info") => LevelFilter::INFO,
        Some("error") => LevelFilter::ERROR,
        _ if verbose => LevelFilter::INFO,
        _ => LevelFilter::WARN,
    };
    tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).with_target(false).init();
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Prints rows as columns padded to the display width (Japanese is two cells wide).
pub fn table(header: &[String], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        println!("{out}");
    };
    line(header);
    for row in rows {
        line(row);
    }
}

/// A progress bar on standard error (hidden when that is not a terminal).
pub fn progress_bar(total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {pos} {msg}"
    };
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

pub fn json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("serialisable"));
}
