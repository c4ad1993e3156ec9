//! The subcommands.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use dualsync::engine::{Durability, Engine, MapSetup, Services, SqliteStore, events};
use dualsync::odata::{DataverseClient, FinOpsClient, TransportConfig};
use serde_json::json;

use crate::cli::{Cli, Command, ErrorsAction};
use crate::config::{self, Config, safe};
use crate::registry::{self, arrow, direction_name, side_name};
use crate::{Failure, output};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    if cli.verbose {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::INFO)
            .try_init();
    } else {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::WARN)
            .try_init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::runtime(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let json = cli.json;
    match cli.command {
        Command::Maps { map } => maps(map.as_deref(), json),
        Command::Demo => crate::demo::run(json).await,
        Command::Status => {
            let config = config::load(&cli.config)?;
            status(&build(&config, true)?, json)
        }
        Command::Pause { map } => {
            let config = config::load(&cli.config)?;
            let engine = build(&config, true)?;
            engine.pause(&map)?;
            let name = canonical(&engine, &map);
            print(
                json,
                json!({"map": name, "paused": true}),
                &format!("paused {name}: changes are queued, none is applied until `dualsync resume {name}`"),
            );
            Ok(())
        }
        Command::Resume { map } => {
            let config = config::load(&cli.config)?;
            let engine = build(&config, true)?;
            engine.resume(&map)?;
            let name = canonical(&engine, &map);
            print(
                json,
                json!({"map": name, "paused": false}),
                &format!("resumed {name}: its queued changes are applied in order"),
            );
            Ok(())
        }
        Command::Errors(args) => {
            let config = config::load(&cli.config)?;
            let engine = build(&config, true)?;
            errors(&engine, args, json)
        }
        Command::InitialSync {
            map,
            company,
            restart,
        } => {
            let config = config::load(&cli.config)?;
            let engine = Arc::new(build(&config, false)?);
            initial_sync(engine, &map, company.as_deref(), restart, json).await
        }
        Command::Reconcile { map, company, fix } => {
            let config = config::load(&cli.config)?;
            let engine = build(&config, false)?;
            reconcile(&engine, &map, company.as_deref(), fix, json).await
        }
        Command::Run => {
            let config = config::load(&cli.config)?;
            run_live(&config, json).await
        }
    }
}

fn print(json: bool, value: serde_json::Value, text: &str) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(Failure::runtime)?;
    println!("{text}");
    Ok(())
}

/// The configured name of a map given in any case.
fn canonical(engine: &Engine, map: &str) -> String {
    engine
        .maps()
        .iter()
        .map(|m| m.map.spec().name.clone())
        .find(|n| n.eq_ignore_ascii_case(map))
        .unwrap_or_else(|| map.to_string())
}

/// The engine over the configured services and state file. `offline`: commands that only read or
/// change the state file need no credentials.
pub fn build(config: &Config, offline: bool) -> Result<Engine, Failure> {
    let transport = TransportConfig::default();
    let dataverse = DataverseClient::new(
        &config.dataverse.root,
        config.dataverse.credentials(offline)?,
        transport.clone(),
    )
    .map_err(|e| Failure::usage(format!("`dataverse.url`: {}", safe(&e.to_string()))))?;
    let fo = FinOpsClient::new(&config.fo.root, config.fo.credentials(offline)?, transport)
        .map_err(|e| Failure::usage(format!("`fo.url`: {}", safe(&e.to_string()))))?;
    if let Some(parent) = config.state_file.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        return Err(Failure::usage(format!(
            "`state.file`: the folder {} does not exist",
            parent.display()
        )));
    }
    let store = SqliteStore::open(&config.state_file, Durability::Full)?;
    let maps = config
        .maps
        .iter()
        .map(|m| {
            let companies: Vec<&str> = m.companies.iter().map(String::as_str).collect();
            let mut setup = MapSetup::new(Arc::clone(&m.info.runner), &companies);
            setup.fo_events = m.fo_events;
            setup
        })
        .collect();
    Ok(Engine::new(
        Services { dataverse, fo },
        Arc::new(store),
        maps,
        config.engine.clone(),
    ))
}

fn status(engine: &Engine, json: bool) -> Result<(), Failure> {
    let status = engine.status()?;
    if json {
        print_json(&status)
    } else {
        print!("{}", output::status_table(&status));
        Ok(())
    }
}

fn errors(engine: &Engine, args: crate::cli::ErrorsArgs, json: bool) -> Result<(), Failure> {
    match args.action {
        None => {
            let map = match &args.map {
                Some(m) => {
                    if !engine
                        .maps()
                        .iter()
                        .any(|s| s.map.spec().name.eq_ignore_ascii_case(m))
                    {
                        return Err(dualsync::engine::EngineError::UnknownMap(m.clone()).into());
                    }
                    Some(canonical(engine, m))
                }
                None => None,
            };
            let list = engine.store().errors(map.as_deref())?;
            if json {
                let list: Vec<output::ErrorJson> = list.iter().map(output::ErrorJson::from).collect();
                print_json(&list)
            } else {
                print!("{}", output::errors_table(&list));
                if !list.is_empty() {
                    println!(
                        "\n`dualsync errors show ID` shows an entry with its record; `dualsync errors retry ID|--all` queues it again."
                    );
                }
                Ok(())
            }
        }
        Some(ErrorsAction::Show { id }) => {
            let Some(entry) = engine.store().error(id)? else {
                return Err(Failure::usage(format!(
                    "no error with id {id} in the log (`dualsync errors` lists them)"
                )));
            };
            if json {
                print_json(&output::ErrorJson::from(&entry))
            } else {
                print!("{}", output::error_detail(&entry));
                Ok(())
            }
        }
        Some(ErrorsAction::Retry { id, all }) => {
            if !all
                && let Some(id) = id
                && engine.store().error(id)?.is_none()
            {
                return Err(Failure::usage(format!(
                    "no error with id {id} in the log (`dualsync errors` lists them)"
                )));
            }
            let moved = engine.retry_errors(if all { None } else { id })?;
            print(
                json,
                json!({"retried": moved}),
                &format!(
                    "moved {moved} error(s) back to the queue: `dualsync run` applies them (a running one picks them up)"
                ),
            );
            Ok(())
        }
    }
}

#[derive(serde::Serialize)]
struct ColumnJson {
    fo: &'static str,
    dataverse: &'static str,
    direction: &'static str,
    key: bool,
    lookup: Option<String>,
}

#[derive(serde::Serialize)]
struct MapJson {
    name: String,
    fo_entity: &'static str,
    dataverse_table: &'static str,
    company: Option<&'static str>,
    master: &'static str,
    fo_filter: Option<&'static str>,
    dataverse_filter: Option<&'static str>,
    columns: Vec<ColumnJson>,
}

fn map_json(info: &registry::MapInfo) -> MapJson {
    MapJson {
        name: info.name.clone(),
        fo_entity: info.fo_set,
        dataverse_table: info.dv_set,
        company: info.company,
        master: side_name(info.master),
        fo_filter: info.fo_filter,
        dataverse_filter: info.dv_filter,
        columns: info
            .columns
            .iter()
            .map(|c| ColumnJson {
                fo: c.fo,
                dataverse: c.dv,
                direction: direction_name(c.direction),
                key: c.key,
                lookup: (!c.lookup.is_empty()).then(|| c.lookup_path()),
            })
            .collect(),
    }
}

fn maps(map: Option<&str>, json: bool) -> Result<(), Failure> {
    let all = registry::all();
    let Some(name) = map else {
        if json {
            return print_json(&all.iter().map(map_json).collect::<Vec<_>>());
        }
        let rows: Vec<Vec<String>> = all
            .iter()
            .map(|m| {
                vec![
                    m.name.clone(),
                    m.fo_set.to_string(),
                    m.dv_set.to_string(),
                    m.company.map(|_| "per company").unwrap_or("shared").to_string(),
                    side_name(m.master).to_string(),
                    m.columns.len().to_string(),
                ]
            })
            .collect();
        print!(
            "{}",
            output::table(
                &[
                    "MAP",
                    "F&O ENTITY",
                    "DATAVERSE TABLE",
                    "COMPANY",
                    "MASTER",
                    "COLUMNS"
                ],
                &rows
            )
        );
        println!(
            "\n{} maps; `dualsync maps MAP` shows a map's column pairs.",
            all.len()
        );
        return Ok(());
    };
    let Some(info) = registry::find(&all, name) else {
        let similar = registry::similar(&all, name);
        let hint = if similar.is_empty() {
            String::new()
        } else {
            format!(" (did you mean {}?)", similar.join(", "))
        };
        return Err(Failure::usage(format!(
            "no map named `{}`{hint}; `dualsync maps` lists them",
            safe(name)
        )));
    };
    if json {
        return print_json(&map_json(info));
    }
    println!("{}: F&O {} <-> Dataverse {}", info.name, info.fo_set, info.dv_set);
    println!(
        "  company: {}   initial-sync master: {}",
        info.company
            .map(|c| format!("per company ({c})"))
            .unwrap_or_else(|| "shared".into()),
        side_name(info.master)
    );
    if let Some(f) = info.fo_filter {
        println!("  F&O filter: {f}");
    }
    if let Some(f) = info.dv_filter {
        println!("  Dataverse filter: {f}");
    }
    println!();
    let rows: Vec<Vec<String>> = info
        .columns
        .iter()
        .map(|c| {
            vec![
                if c.fo.is_empty() {
                    "(default)".into()
                } else {
                    c.fo.to_string()
                },
                arrow(c.direction).to_string(),
                if c.dv.is_empty() {
                    "(default)".into()
                } else {
                    c.dv.to_string()
                },
                if c.key { "key".into() } else { String::new() },
                if c.lookup.is_empty() {
                    String::new()
                } else {
                    format!("lookup by {}", c.lookup_path())
                },
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(&["F&O COLUMN", "", "DATAVERSE COLUMN", "KEY", "TRANSFORM"], &rows)
    );
    Ok(())
}

async fn initial_sync(
    engine: Arc<Engine>,
    map: &str,
    company: Option<&str>,
    restart: bool,
    json: bool,
) -> Result<(), Failure> {
    let setup = engine
        .maps()
        .iter()
        .find(|m| m.map.spec().name.eq_ignore_ascii_case(map))
        .cloned()
        .ok_or_else(|| dualsync::engine::EngineError::UnknownMap(map.to_string()))?;
    let name = setup.map.spec().name.clone();
    let companies: Vec<String> = match company {
        Some(c) => {
            let c = c.to_lowercase();
            if setup.map.spec().company_fo.is_none() {
                return Err(Failure::usage(format!(
                    "map {name} is not per company: leave out --company"
                )));
            }
            if !setup.companies.is_empty() && !setup.companies.contains(&c) {
                return Err(Failure::usage(format!(
                    "company `{}` is not one of map {name}'s companies in the configuration ({})",
                    safe(&c),
                    setup.companies.join(", ")
                )));
            }
            vec![c]
        }
        None if setup.map.spec().company_fo.is_some() && !setup.companies.is_empty() => {
            setup.companies.clone()
        }
        None => vec![String::new()],
    };
    if restart {
        for c in &companies {
            engine.store().reset_checkpoint(&name, c)?;
        }
    }
    let before = engine.store().counts(&name)?;
    let bar = (!json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let watcher = bar.clone().map(|bar| {
        let engine = Arc::clone(&engine);
        let name = name.clone();
        let companies = companies.clone();
        tokio::spawn(async move {
            loop {
                let mut read = 0;
                for c in &companies {
                    read += engine.store().checkpoint(&name, c).map(|c| c.count).unwrap_or(0);
                }
                bar.set_message(format!("initial sync of {name}: {read} record(s) read"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    });
    let company_arg = company.map(str::to_lowercase);
    let result = engine.initial_sync(&name, company_arg.as_deref()).await;
    if let Some(w) = watcher {
        w.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let read = result?;
    let after = engine.store().counts(&name)?;
    let state = engine.store().map_state(&name)?;
    let errors = after.errors.saturating_sub(before.errors);
    let queued = after.queued;
    let mut done = true;
    for c in &companies {
        done &= engine.store().checkpoint(&name, c)?.done;
    }
    if json {
        println!(
            "{}",
            json!({"map": name, "read": read, "synced_to_dv": state.synced_to_dv, "synced_to_fo": state.synced_to_fo,
                   "queued": queued, "new_errors": errors, "done": done})
        );
    } else {
        let already = if read == 0 && done && !restart {
            " (already done: --restart runs it again)"
        } else {
            ""
        };
        println!(
            "initial sync of {name}: {read} record(s) read from {}{already}; {} written to Dataverse and {} to F&O in all; {queued} queued (waiting for a lookup or a retry: `dualsync run` applies them); {errors} new error(s){}",
            side_name(setup.map.spec().master),
            state.synced_to_dv,
            state.synced_to_fo,
            if errors > 0 { " (`dualsync errors`)" } else { "" }
        );
    }
    Ok(())
}

async fn reconcile(
    engine: &Engine,
    map: &str,
    company: Option<&str>,
    fix: bool,
    json: bool,
) -> Result<(), Failure> {
    let reports = engine.reconcile(map, company, fix).await?;
    if json {
        return print_json(&reports);
    }
    const SHOWN: usize = 20;
    let list = |keys: &[String]| {
        let mut text = keys
            .iter()
            .take(SHOWN)
            .map(|k| safe(&k.replace('\u{1f}', "|")))
            .collect::<Vec<_>>()
            .join(", ");
        if keys.len() > SHOWN {
            text.push_str(&format!(", ... ({} more)", keys.len() - SHOWN));
        }
        text
    };
    for r in &reports {
        let company = if r.company.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.company)
        };
        println!("{}{company}: {} F&O record(s) compared", r.map, r.compared);
        let clean = r.missing_in_dataverse.is_empty() && r.missing_in_fo.is_empty() && r.differing.is_empty();
        if clean {
            println!("  both sides agree on the mapped columns");
        }
        if !r.missing_in_dataverse.is_empty() {
            println!(
                "  missing in Dataverse: {} ({})",
                r.missing_in_dataverse.len(),
                list(&r.missing_in_dataverse)
            );
        }
        if !r.missing_in_fo.is_empty() {
            println!(
                "  missing in F&O: {} ({})",
                r.missing_in_fo.len(),
                list(&r.missing_in_fo)
            );
        }
        if !r.differing.is_empty() {
            println!("  differing: {}", r.differing.len());
            for d in r.differing.iter().take(SHOWN) {
                println!(
                    "    {}: {}",
                    safe(&d.key.replace('\u{1f}', "|")),
                    safe(&d.columns.join(", "))
                );
            }
        }
        if fix {
            println!(
                "  queued {} repair(s): `dualsync run` applies them (a running one picks them up)",
                r.queued
            );
        } else if !clean {
            println!("  `dualsync reconcile {} --fix` queues the repairs", r.map);
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run_live(config: &Config, json: bool) -> Result<(), Failure> {
    let key = config.events_key()?;
    let engine = Arc::new(build(config, false)?);
    let endpoint = match &config.events_listen {
        Some(listen) => Some(
            events::serve(Arc::clone(&engine), listen, key)
                .await
                .map_err(|e| Failure::runtime(format!("`engine.events_listen`: {}", safe(&e.to_string()))))?,
        ),
        None => None,
    };
    let address = endpoint.as_ref().map(|e| format!("http://{}/events", e.address));
    let names: Vec<String> = engine.maps().iter().map(|m| m.map.spec().name.clone()).collect();
    if json {
        println!(
            "{}",
            json!({"event": "ready", "maps": names, "events_endpoint": address})
        );
    } else {
        println!(
            "dualsync: running {} map(s) ({}); state in {}",
            names.len(),
            names.join(", "),
            config.state_file.display()
        );
        match &address {
            Some(a) => println!("F&O data events: POST {a}"),
            None => println!(
                "no data-event endpoint (engine.events_listen is not set): F&O changes come from full compares"
            ),
        }
        println!("Ctrl-C stops (cleanly: nothing queued is lost)");
    }
    let result = engine.run(shutdown_signal()).await;
    drop(endpoint);
    result?;
    let status = engine.status()?;
    if json {
        println!("{}", json!({"event": "stopped", "status": status}));
    } else {
        println!("\nstopped cleanly\n");
        print!("{}", output::status_table(&status));
    }
    Ok(())
}
