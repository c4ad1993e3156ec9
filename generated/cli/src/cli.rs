//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Keeps Dataverse and Dynamics 365 F&O in sync with compiled table maps (like dual-write).
///
/// Exit codes: 0 success, 1 failure at run time (a service, the state file), 2 usage or
/// configuration error.
#[derive(Debug, Parser)]
#[command(
    name = "dualsync",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success, 1 failure at run time (a service, the state file), 2 usage or configuration error.\nWithout a configuration: `dualsync demo` (both services emulated on this machine), `dualsync maps`."
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, value_name = "PATH", default_value = "dualsync.toml")]
    pub config: PathBuf,
    /// Machine-readable output (JSON on stdout).
    #[arg(long, global = true)]
    pub json: bool,
    /// Log what the engine does (to stderr).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Initial sync where needed, then live sync of every configured map until Ctrl-C.
    Run,
    /// Initial sync of one map (all its companies, or one), from its master side.
    InitialSync {
        map: String,
        #[arg(long)]
        company: Option<String>,
        /// Start again from the first record (forget the checkpoint).
        #[arg(long)]
        restart: bool,
    },
    /// Pause a map: changes keep being queued, none is applied.
    Pause { map: String },
    /// Resume a paused map: its queued changes are applied in order.
    Resume { map: String },
    /// The status table: map, state, companies, synced, queued, errors, lag, last change.
    Status,
    /// The error log (of one map, or all), one entry, or retry.
    Errors(ErrorsArgs),
    /// The generated maps and their column pairs.
    Maps {
        /// Show the column pairs of this map.
        map: Option<String>,
    },
    /// Compare both sides of a map row by row; --fix queues the repairs.
    Reconcile {
        map: String,
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        fix: bool,
    },
    /// A demo on this machine: both services emulated, sample data, initial and live sync.
    Demo,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ErrorsArgs {
    #[command(subcommand)]
    pub action: Option<ErrorsAction>,
    /// Only the errors of this map.
    pub map: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ErrorsAction {
    /// One entry in full, with the record.
    Show { id: i64 },
    /// Move entries back to the queue (applied by `dualsync run`).
    Retry {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        #[arg(long)]
        all: bool,
    },
}
