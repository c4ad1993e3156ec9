//! `dualsync-codegen`: the command line over the codegen library.

mod cli;

/// mimalloc instead of the system allocator: reading a whole F&O document makes hundreds of
/// thousands of small allocations (measured: BENCHMARKS.md, whole process).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Long messages stay on one line: they name files and positions that scripts and CI logs grep for.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}
