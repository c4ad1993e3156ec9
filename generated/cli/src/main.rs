//! `dualsync`: the command line over the sync engine. Exit codes: 0 success, 1 failure at run
//! time, 2 usage or configuration error.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let cli = dualsync_cli::cli::Cli::parse();
    match dualsync_cli::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{:?}", failure.report());
            ExitCode::from(failure.exit_code())
        }
    }
}
