//! The `monban` command: parses the command line and calls the server library.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use monban_server::config::Config;
use monban_server::store::TokenScope;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "monban",
    version,
    about = "門番 monban — proves two-factor authentication (二要素認証), login by login"
)]
struct Cli {
    /// The configuration file (CONTRACT §4).
    #[arg(
        long,
        global = true,
        env = "MONBAN_CONFIG",
        default_value = "monban.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub: migrate the store, import the inventory, connect, serve.
    Serve,
    /// Check the configuration file and exit.
    Check,
    /// Issue or list API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run a self-contained demo: embedded broker and store, simulated hospital day.
    Demo(DemoArgs),
    /// Run only the embedded MQTT broker (rumqttd), e.g. for commissioning or benchmarks.
    Broker {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:1884")]
        listen: SocketAddr,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token; the token alone is printed to stdout, only its hash is stored.
    Issue(IssueArgs),
    /// List tokens (ids, scopes, last use; never the tokens).
    List,
    /// Revoke a token by its id (the 8 hex digits after `mbn_`).
    Revoke { id: String },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct IssueArgs {
    /// A login-ingest token for this system.
    #[arg(long)]
    system: Option<String>,
    /// A door-ingest token.
    #[arg(long)]
    doors: bool,
    /// A read token with this role: auditor, officer or admin.
    #[arg(long)]
    role: Option<String>,
}

#[derive(Args)]
struct DemoArgs {
    /// Address of the dashboard and API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the demo keeps its database and generated monban.toml.
    #[arg(long, default_value = "monban-demo")]
    data_dir: PathBuf,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 144.0)]
    speed: f64,
    /// Seed of the generated hospital and its day.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,rumqttd=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("monban: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("monban: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::from_file(path).map_err(|errs| {
        eprintln!("{errs}");
        eprintln!(
            "monban: the configuration has {} problem(s); nothing was started",
            errs.0.len()
        );
        ExitCode::from(2)
    })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let clock = monban_server::hub::system_clock();
    match cli.command {
        Command::Serve => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let listener = tokio::net::TcpListener::bind(config.server.listen)
                .await
                .with_context(|| {
                    format!(
                        "cannot listen on {} ([server] listen)",
                        config.server.listen
                    )
                })?;
            monban_server::run(config, listener, monban_server::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let inv = &config.inventory;
            println!(
                "{}: ok — {} rooms, {} doors, {} terminals, {} systems, {} people",
                cli.config.display(),
                inv.rooms().len(),
                inv.doors().len(),
                inv.terminals().len(),
                inv.systems().len(),
                inv.people().len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(cmd) => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let store =
                monban_server::open_store(&config, &cli.config.display().to_string(), &clock)
                    .await?;
            match cmd {
                TokenCommand::Issue(a) => {
                    let scope = if let Some(system) = a.system {
                        let id = monban_core::SystemId::parse(system.clone())?;
                        if config.inventory.system(&id).is_none() {
                            eprintln!(
                                "monban: system {system:?} is not in {} ([[systems]])",
                                cli.config.display()
                            );
                            return Ok(ExitCode::from(2));
                        }
                        TokenScope::Login(id)
                    } else if a.doors {
                        TokenScope::Doors
                    } else {
                        let role = a.role.unwrap_or_default();
                        if !matches!(role.as_str(), "auditor" | "officer" | "admin") {
                            eprintln!(
                                "monban: role {role:?} is not one of auditor, officer, admin"
                            );
                            return Ok(ExitCode::from(2));
                        }
                        TokenScope::Read(role)
                    };
                    let label = format!("issued by the command line at {}", clock());
                    let text = monban_server::issue_token(&store, scope, &label, &clock).await?;
                    println!("{text}");
                }
                TokenCommand::List => {
                    for t in store.tokens().await? {
                        let scope = match &t.scope {
                            TokenScope::Login(s) => format!("login:{s}"),
                            TokenScope::Doors => "doors".into(),
                            TokenScope::Read(r) => format!("read:{r}"),
                        };
                        let used = t
                            .last_used_at
                            .map(|t| t.to_string())
                            .unwrap_or_else(|| "never".into());
                        let state = if t.revoked { "revoked" } else { "active" };
                        println!(
                            "{}\t{scope}\t{state}\tcreated {}\tlast used {used}",
                            t.id, t.created_at
                        );
                    }
                }
                TokenCommand::Revoke { id } => {
                    if store.revoke_token(&id, clock()).await? {
                        eprintln!("monban: token {id} revoked");
                    } else {
                        eprintln!("monban: no active token with id {id:?}");
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Broker { listen } => {
            monban_server::broker::start(listen)?;
            eprintln!("monban: MQTT broker listening on mqtt://{listen}; stop with Ctrl-C");
            monban_server::shutdown_signal().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(a) => {
            let opts = monban_server::demo::DemoOptions {
                listen: a.listen,
                data_dir: a.data_dir,
                speed: a.speed,
                seed: a.seed,
            };
            monban_server::demo::run(opts, monban_server::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
