//! `mamori`: parses flags and dispatches; the work lives in the library crates.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod failure;
mod output;

use std::process::ExitCode;

fn main() -> ExitCode {
    let lang = mamori_i18n::Lang::detect(cli::lang_flag(std::env::args()).as_deref());
    let args = cli::parse(lang);
    output::init_logging(args.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}", failure::message(&anyhow::Error::from(e), lang));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(args, lang)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", failure::message(&e, lang));
            failure::exit_code(&e)
        }
    }
}
