//! The `orderstream` command: serve (default), create-admin, seed-demo, backup, restore,
//! migrate and import-sled (PostgreSQL).
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use orderstream::config::{Flags, Secret, Settings};
use orderstream::startup::{Application, Context};

#[derive(Parser)]
#[command(name = "orderstream", version, about = "A self-hosted order server")]
struct Cli {
    /// Config file (TOML); missing is fine.
    #[arg(long, global = true, default_value = "orderstream.toml")]
    config: PathBuf,
    /// Where the database lives.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Run on PostgreSQL (`postgres://user:pass@host/db`) instead of the embedded database.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        addr: Option<String>,
        /// Do not seed a demo catalog into an empty database.
        #[arg(long)]
        no_demo: bool,
    },
    /// Make (or promote) an admin; the password is read from stdin.
    CreateAdmin {
        #[arg(long)]
        email: String,
    },
    /// Write a demo catalog.
    SeedDemo {
        #[arg(long, default_value_t = 120)]
        products: usize,
    },
    /// Back up the database of a stopped server (a running one: POST /api/admin/backup/).
    Backup {
        /// The backup file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Apply the PostgreSQL schema migrations this release has (`serve` does it at start too).
    Migrate,
    /// Copy a stopped server's sled data dir into an empty PostgreSQL database (--database-url).
    ImportSled {
        /// The sled data directory to read.
        #[arg(long)]
        from: PathBuf,
    },
    /// Restore a backup into --data-dir, which must be new or empty.
    Restore {
        /// The backup file to read.
        #[arg(long)]
        from: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        addr: None,
        no_demo: false,
    });
    let flags = match &command {
        Command::Serve { addr, no_demo } => Flags {
            addr: addr.clone(),
            data_dir: cli.data_dir.clone(),
            demo: no_demo.then_some(false),
            database_url: cli.database_url.clone().map(Secret::new),
        },
        _ => Flags {
            data_dir: cli.data_dir.clone(),
            database_url: cli.database_url.clone().map(Secret::new),
            ..Flags::default()
        },
    };
    let settings = match Settings::load(&cli.config, &flags) {
        Ok(s) => s,
        Err(e) => return fail(&format!("configuration: {e}")),
    };
    orderstream::telemetry::init(settings.log_format);
    let system = actix_web::rt::System::new();
    let outcome = system.block_on(async move {
        match command {
            Command::Serve { .. } => {
                let app = Application::build(settings)
                    .await
                    .map_err(|e| e.to_string())?;
                app.run_until_stopped().await.map_err(|e| e.to_string())
            }
            Command::CreateAdmin { email } => {
                let password = read_password()?;
                let context = Context::open(&settings).map_err(|e| e.to_string())?;
                context
                    .ensure_admin(&email, &password)
                    .map_err(|e| e.to_string())?;
                context.store.flush().map_err(|e| e.to_string())?;
                println!("{email} is an admin");
                Ok(())
            }
            Command::SeedDemo { products } => {
                let context = Context::open(&settings).map_err(|e| e.to_string())?;
                let started = std::time::Instant::now();
                let written = context
                    .services
                    .catalog
                    .seed_demo(products)
                    .map_err(|e| e.to_string())?;
                context.store.flush().map_err(|e| e.to_string())?;
                println!(
                    "seeded {written} products in {:.1}s",
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            }
            Command::Backup { out } => {
                let snapshot =
                    orderstream::services::backups::back_up_stopped(&settings.data_dir, &out)?;
                println!(
                    "backed up {} records from {} to {}",
                    snapshot.record_count(),
                    settings.data_dir.display(),
                    out.display()
                );
                Ok(())
            }
            Command::Migrate => {
                orderstream::startup::migrate(&settings).map_err(|e| e.to_string())?;
                println!("the database schema is up to date");
                Ok(())
            }
            Command::ImportSled { from } => {
                let copied = orderstream::startup::import_sled(&from, &settings)
                    .map_err(|e| e.to_string())?;
                println!("imported {copied} into PostgreSQL from {}", from.display());
                Ok(())
            }
            Command::Restore { from } => {
                let info = orderstream::services::backups::restore(&from, &settings.data_dir)
                    .map_err(|e| format!("{}: {e}", from.display()))?;
                println!(
                    "restored {} records (database format {}) into {}",
                    info.records,
                    info.database_format,
                    settings.data_dir.display()
                );
                Ok(())
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("orderstream: {message}");
    ExitCode::FAILURE
}

/// One line from stdin; prompts when stdin is a terminal.
fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for the admin (8 to 128 characters): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err("no password given on stdin".into());
    }
    Ok(password)
}
