//! The `dualsync` command over the sync engine and the generated table maps (the binary is
//! `src/main.rs`; the library is what it and its tests share).

pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod output;
pub mod registry;
pub mod seed;

/// How a command failed: exit code 2 (usage or configuration) or 1 (at run time).
#[derive(Debug)]
pub enum Failure {
    Usage(miette::Report),
    Runtime(miette::Report),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Runtime(_) => 1,
        }
    }

    pub fn report(&self) -> &miette::Report {
        match self {
            Failure::Usage(r) | Failure::Runtime(r) => r,
        }
    }

    pub fn runtime(message: impl std::fmt::Display) -> Self {
        Failure::Runtime(miette::miette!("{message}"))
    }

    pub fn usage(message: impl std::fmt::Display) -> Self {
        Failure::Usage(miette::miette!("{message}"))
    }
}

impl From<config::ConfigError> for Failure {
    fn from(e: config::ConfigError) -> Self {
        Failure::Usage(miette::Report::new(e))
    }
}

impl From<dualsync::engine::EngineError> for Failure {
    fn from(e: dualsync::engine::EngineError) -> Self {
        match e {
            dualsync::engine::EngineError::UnknownMap(name) => Failure::Usage(miette::miette!(
                help = "the maps this command knows are the [[maps]] of dualsync.toml (`dualsync status` lists them)",
                "no map named `{}` in the configuration",
                config::safe(&name)
            )),
            other => Failure::Runtime(miette::miette!("{}", config::safe(&other.to_string()))),
        }
    }
}

impl From<dualsync::engine::StoreError> for Failure {
    fn from(e: dualsync::engine::StoreError) -> Self {
        Failure::Runtime(miette::miette!("{e}"))
    }
}
