//! The `monban` command: parses the command line and calls the server library.

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use monban_server::auth::{new_invite, Auth};
use monban_server::config::Config;
use monban_server::store::auth::{NewAudit, Owner};
use monban_server::store::{Store, TokenScope};
use monban_web::auth::Role;
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
    /// Hub users: one-time enrollment links (passkeys only, no passwords).
    #[command(subcommand)]
    User(UserCommand),
    /// Run a self-contained demo: embedded broker and store, simulated hospital day.
    Demo(DemoArgs),
    /// Generate data through the writer, for benchmarks and trying the reports.
    #[command(subcommand)]
    Generate(GenerateCommand),
    /// Recompute the evidence chain from the store (CONTRACT §13): prints `ok <seq>
    /// <hash>` (exit 0), or the first record changed, removed or inserted outside the hub
    /// (exit 1).
    Verify {
        /// A head noted earlier (`SEQ:HASH`, e.g. from an inspection report or `GET
        /// /api/v1/evidence/head`) that the chain must still pass through.
        #[arg(long)]
        head: Option<String>,
    },
    /// Import a system's access log (アクセスログ) into the store.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Run only the embedded MQTT broker (rumqttd), e.g. for commissioning or benchmarks.
    Broker {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:1884")]
        listen: SocketAddr,
    },
}

#[derive(Subcommand)]
enum GenerateCommand {
    /// Store generated logins (spread over the last DAYS days, on the inventory's
    /// systems, accounts and terminals) through the writer in batches. Refuses a store
    /// that already holds logins unless --force: never mix them with real evidence.
    Logins {
        /// How many logins.
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Over how many days before now.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Logins per writer command.
        #[arg(long, default_value_t = 5000)]
        batch: usize,
        /// The generator's seed (the same seed gives the same logins).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Add to a store that already holds logins.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a CSV access log as logins of SYSTEM, mapped by its `[[imports]]` table:
    /// every row is checked first (nothing is stored if any row is bad, exit 2), then the
    /// logins are judged and stored like `POST /api/v1/logins`. Importing again stores
    /// nothing twice. Stop the hub first: the import writes through a writer of its own.
    Logins {
        /// The system whose log it is (an `[[imports]]` table names it).
        #[arg(long)]
        system: String,
        /// The CSV file.
        file: PathBuf,
        /// Logins per writer command.
        #[arg(long, default_value_t = 2000)]
        batch: usize,
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

#[derive(Subcommand)]
enum UserCommand {
    /// Print a one-time enrollment link for a new user (single use, expires after
    /// `[auth] invite_ttl`). The link alone goes to stdout.
    Invite {
        /// admin, officer, facilities or auditor.
        #[arg(long)]
        role: String,
        /// The name the user signs in with.
        #[arg(long)]
        name: String,
        /// How long the link works (default: `[auth] invite_ttl`, 72h), e.g. "30m".
        #[arg(long)]
        valid_for: Option<humantime::Duration>,
    },
    /// Print a new enrollment link for an existing user who lost every passkey.
    Reinvite {
        /// The user's name.
        #[arg(long)]
        name: String,
    },
    /// List users (name, role, passkeys, state).
    List,
    /// Print an enrollment link for a person of the inventory to register a step-up
    /// passkey (systems without 二要素認証 ask the hub to verify it at login).
    InvitePerson {
        /// The person's id in the inventory, e.g. p0001.
        #[arg(long)]
        person: String,
        /// How long the link works (default: `[auth] invite_ttl`).
        #[arg(long)]
        valid_for: Option<humantime::Duration>,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct IssueArgs {
    /// A login-ingest token for this system.
    #[arg(long)]
    system: Option<String>,
    /// A door-ingest token: for every door, or (`--doors ward3-main,ward3-back`) only for
    /// those doors.
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "DOOR,...")]
    doors: Option<String>,
    /// A read token with this role: auditor, officer, facilities or admin.
    #[arg(long)]
    role: Option<String>,
    /// A vendor token (CONTRACT §10): files this vendor's maintenance requests and work
    /// reports, nothing else.
    #[arg(long)]
    vendor: Option<String>,
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

/// The secrets the configuration names in the environment (`[[notify]] secret_env`,
/// the SMTP credentials): reported like the file's own problems.
fn check_environment(config: &Config) -> Result<(), ExitCode> {
    config
        .notify
        .resolve(|name| std::env::var(name).ok())
        .map(|_| ())
        .map_err(|errs| {
            eprintln!("{errs}");
            eprintln!(
                "monban: the configuration has {} problem(s); nothing was started",
                errs.0.len()
            );
            ExitCode::from(2)
        })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let clock = monban_server::clock::Clock::system();
    match cli.command {
        Command::Serve => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            if let Err(code) = check_environment(&config) {
                return Ok(code);
            }
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
            if let Err(code) = check_environment(&config) {
                return Ok(code);
            }
            if let Some(files) = &config.server.tls {
                if let Err(e) = monban_server::http::tls::server_config(files) {
                    eprintln!("monban: {e:#}");
                    return Ok(ExitCode::from(2));
                }
            }
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
                    } else if let Some(vendor) = a.vendor {
                        let id = monban_core::VendorId::parse(vendor.clone())?;
                        if config.inventory.vendor(&id).is_none() {
                            eprintln!(
                                "monban: vendor {vendor:?} is not in {} ([[vendors]])",
                                cli.config.display()
                            );
                            return Ok(ExitCode::from(2));
                        }
                        TokenScope::Vendor(id)
                    } else if let Some(list) = a.doors {
                        match door_list(&list, &config.inventory) {
                            Ok(doors) => TokenScope::Doors(doors),
                            Err(e) => {
                                eprintln!("monban: --doors: {e}");
                                return Ok(ExitCode::from(2));
                            }
                        }
                    } else {
                        let role = a.role.unwrap_or_default();
                        if let Err(e) = role.parse::<Role>() {
                            eprintln!("monban: {e}");
                            return Ok(ExitCode::from(2));
                        }
                        TokenScope::Read(role)
                    };
                    let label = format!("issued by the command line at {}", clock.now());
                    let text =
                        monban_server::issue_token(&store, scope.clone(), &label, &clock).await?;
                    let id = text.split('_').nth(1).unwrap_or_default().to_string();
                    store.set_token_creator(&id, "command line").await?;
                    cli_audit(
                        &store,
                        &clock,
                        "token.issue",
                        &id,
                        serde_json::json!({"scope": scope_text(&scope)}),
                    )
                    .await;
                    println!("{text}");
                }
                TokenCommand::List => {
                    for t in store.tokens().await? {
                        let scope = scope_text(&t.scope);
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
                    if store.revoke_token(&id, clock.now()).await? {
                        cli_audit(&store, &clock, "token.revoke", &id, serde_json::json!({})).await;
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
        Command::User(cmd) => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let store =
                monban_server::open_store(&config, &cli.config.display().to_string(), &clock)
                    .await?;
            let mut settings = config.auth.clone();
            let valid_for = match &cmd {
                UserCommand::Invite { valid_for, .. }
                | UserCommand::InvitePerson { valid_for, .. } => *valid_for,
                _ => None,
            };
            if let Some(v) = valid_for {
                settings.invite_ttl = monban_core::Span::from_millis(
                    i64::try_from(std::time::Duration::from(v).as_millis()).unwrap_or(i64::MAX),
                );
            }
            let auth = Auth::new(
                &settings,
                config.server.listen.port(),
                config.server.tls_enabled(),
            )?;
            let code = user_command(cmd, &store, &auth, &clock, &config).await?;
            store.close().await;
            Ok(code)
        }
        Command::Generate(GenerateCommand::Logins {
            count,
            days,
            batch,
            seed,
            force,
        }) => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let store =
                monban_server::open_store(&config, &cli.config.display().to_string(), &clock)
                    .await?;
            if !force && store.has_logins().await? {
                eprintln!(
                    "monban: {} already holds logins; generated ones must not mix with real evidence (use --force on a test store)",
                    config.server.database
                );
                return Ok(ExitCode::from(2));
            }
            let bar = indicatif::ProgressBar::new(count);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos}/{len} logins [{elapsed_precise}] {per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let plan = monban_server::generate::Plan {
                count,
                days,
                batch,
                seed,
            };
            let done = monban_server::generate::logins(store.clone(), &plan, clock, |n| {
                bar.set_position(n)
            })
            .await?;
            bar.finish_and_clear();
            store.close().await;
            println!(
                "generated {} logins in {:.1} s ({:.0}/s)",
                done.logins,
                done.seconds,
                done.logins as f64 / done.seconds.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { head } => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let noted = match head.as_deref().map(parse_head).transpose() {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("monban: --head {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let store = monban_server::store::Store::open(&config.server.database)
                .await
                .with_context(|| format!("cannot open the database {}", config.server.database))?;
            // Drawn on stderr only when it is a terminal.
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} verify {pos}/{len} records [{elapsed_precise}] {per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            let outcome = store
                .verify_chain(config.site.as_str(), noted, |done, total| {
                    bar.set_length(total.max(0) as u64);
                    bar.set_position(done.max(0) as u64);
                })
                .await?;
            bar.finish_and_clear();
            store.close().await;
            let secs = started.elapsed().as_secs_f64();
            match outcome {
                monban_server::store::evidence::Verified::Ok(head) => {
                    println!(
                        "ok {} {}",
                        head.seq,
                        monban_core::evidence::to_hex(&head.hash)
                    );
                    eprintln!("monban: verified {} records in {secs:.1} s", head.seq);
                    Ok(ExitCode::SUCCESS)
                }
                monban_server::store::evidence::Verified::Broken(line) => {
                    println!("{line}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Import(ImportCommand::Logins {
            system,
            file,
            batch,
        }) => {
            let config = match load(&cli.config) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            import_logins(&cli.config, &config, &system, &file, batch, clock).await
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

/// The doors of `--doors a,b` (every one in the inventory); an empty list: all doors.
fn door_list(
    list: &str,
    inv: &monban_core::Inventory,
) -> Result<Option<Vec<monban_core::DoorId>>, String> {
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(None);
    }
    let mut doors = Vec::new();
    for n in names {
        let id = monban_core::DoorId::parse(n.to_string()).map_err(|e| e.to_string())?;
        if inv.door(&id).is_none() {
            return Err(format!("door {n:?} is not in the inventory ([[doors]])"));
        }
        if !doors.contains(&id) {
            doors.push(id);
        }
    }
    Ok(Some(doors))
}

fn scope_text(scope: &TokenScope) -> String {
    match scope {
        TokenScope::Login(s) => format!("login:{s}"),
        TokenScope::Doors(None) => "doors".into(),
        TokenScope::Doors(Some(d)) => format!(
            "doors:{}",
            d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(",")
        ),
        TokenScope::Read(r) => format!("read:{r}"),
        TokenScope::Vendor(v) => format!("vendor:{v}"),
    }
}

/// Appends a command-line action to the audit trail (actor `cli`, the OS user's name).
async fn cli_audit(
    store: &Store,
    clock: &monban_server::clock::Clock,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) {
    let who = std::env::var("USER").unwrap_or_else(|_| "command line".into());
    let line = NewAudit {
        actor: "cli",
        actor_name: &who,
        action,
        target,
        detail,
        address: "local",
    };
    if let Err(e) = store.append_audit(&line, clock.now()).await {
        eprintln!("monban: warning: could not write the audit trail: {e}");
    }
}

async fn user_command(
    cmd: UserCommand,
    store: &Store,
    auth: &Auth,
    clock: &monban_server::clock::Clock,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::InvitePerson { person, .. } => {
            let Some(p) = monban_core::PersonId::parse(person.clone())
                .ok()
                .and_then(|id| config.inventory.person(&id).cloned())
            else {
                eprintln!("monban: person {person:?} is not in the inventory ([[people]])");
                return Ok(ExitCode::from(2));
            };
            let (invite, link) = new_invite(
                store,
                auth,
                clock.now(),
                Owner::Person,
                Some(p.id.to_string()),
                &p.name,
                None,
                "command line",
                Some("cli"),
            )
            .await?;
            cli_audit(store, clock, "person_invite.create", &invite.id, serde_json::json!({"person": p.id.to_string(), "expires_at": invite.expires_at.to_rfc3339()})).await;
            eprintln!(
                "monban: step-up passkey enrollment link for {} ({}), single use, valid until {}:",
                p.name,
                p.id,
                invite.expires_at.to_rfc3339()
            );
            println!("{link}");
        }
        UserCommand::Invite { role, name, .. } => {
            let role = match role.parse::<Role>() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("monban: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let name = match monban_core::Text::parse(&name, monban_core::text::NAME) {
                Ok(n) => n.into_string(),
                Err(e) => {
                    eprintln!("monban: --name: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            if store.user_by_name(&name).await?.is_some() {
                eprintln!("monban: a user named {name:?} already exists; use `monban user reinvite --name {name:?}` for a new passkey");
                return Ok(ExitCode::from(2));
            }
            let (invite, link) = new_invite(
                store,
                auth,
                clock.now(),
                Owner::User,
                None,
                &name,
                Some(role),
                "command line",
                Some("cli"),
            )
            .await?;
            cli_audit(store, clock, "invite.create", &invite.id, serde_json::json!({"name": name, "role": role.as_str(), "expires_at": invite.expires_at.to_rfc3339()})).await;
            eprintln!(
                "monban: enrollment link for {name} ({role}), single use, valid until {}:",
                invite.expires_at.to_rfc3339()
            );
            println!("{link}");
        }
        UserCommand::Reinvite { name } => {
            let Some(user) = store.user_by_name(&name).await? else {
                eprintln!("monban: no user named {name:?}");
                return Ok(ExitCode::from(2));
            };
            let (invite, link) = new_invite(
                store,
                auth,
                clock.now(),
                Owner::User,
                Some(user.id.clone()),
                &user.name,
                Some(user.role),
                "command line",
                Some("cli"),
            )
            .await?;
            cli_audit(
                store,
                clock,
                "invite.create",
                &invite.id,
                serde_json::json!({"user": user.id, "name": user.name, "reinvite": true}),
            )
            .await;
            eprintln!(
                "monban: enrollment link for {} (a new passkey), single use, valid until {}:",
                user.name,
                invite.expires_at.to_rfc3339()
            );
            println!("{link}");
        }
        UserCommand::List => {
            for u in store.users().await? {
                let keys = store.passkeys_of(Owner::User, &u.id).await?;
                let active = keys.iter().filter(|k| k.revoked_at.is_none()).count();
                let state = if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{state}\t{active} passkey(s)",
                    u.id, u.name, u.role
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `SEQ:HASH` (a head as `GET /api/v1/evidence/head` and `verify` give it).
fn parse_head(s: &str) -> Result<monban_core::evidence::Head, String> {
    let (seq, hash) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected SEQ:HASH"))?;
    let seq = seq
        .parse::<i64>()
        .map_err(|_| format!("{s:?}: the seq is not a number"))?;
    let hash = monban_core::evidence::from_hex(hash)
        .ok_or_else(|| format!("{s:?}: the hash is not 64 hex digits"))?;
    Ok(monban_core::evidence::Head { seq, hash })
}

/// Whether something answers on the hub's `[server] listen` address (an unspecified
/// address is tried on loopback).
fn hub_answers(listen: SocketAddr) -> bool {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500)).is_ok()
}

/// `monban import logins` (see `monban_server::import`).
async fn import_logins(
    config_path: &std::path::Path,
    config: &Config,
    system: &str,
    file: &std::path::Path,
    batch: usize,
    clock: monban_server::clock::Clock,
) -> anyhow::Result<ExitCode> {
    use monban_server::import;
    let Some(spec) = config.imports.iter().find(|s| s.system.as_str() == system) else {
        eprintln!(
            "monban: {} has no [[imports]] table for system {system:?}: add one that maps the log's columns (see the README)",
            config_path.display()
        );
        return Ok(ExitCode::from(2));
    };
    // One writer per store: the import runs its own, so the hub must not run at the
    // same time (its engine would not see the imported logins until it restarts).
    if hub_answers(config.server.listen) {
        eprintln!(
            "monban: something answers on {} ([server] listen): stop the hub before importing (the import writes through a writer of its own); nothing was imported",
            config.server.listen
        );
        return Ok(ExitCode::from(2));
    }
    let name = file.display().to_string();
    let on_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = if on_terminal {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} checking {pos} rows [{elapsed_precise}] {per_sec}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let checked = {
        let (spec, path, bar) = (spec.clone(), file.to_path_buf(), bar.clone());
        tokio::task::spawn_blocking(move || import::check(&spec, &path, |n| bar.set_position(n)))
            .await?
    };
    bar.finish_and_clear();
    if checked.bad_rows > 0 {
        for e in &checked.errors {
            eprintln!("{}", e.render(&name));
        }
        if checked.errors.len() >= import::MAX_REPORTED {
            eprintln!("… (the first {} problems are shown)", import::MAX_REPORTED);
        }
        eprintln!(
            "monban: {} bad row(s) in {name}; nothing was imported",
            checked.bad_rows
        );
        return Ok(ExitCode::from(2));
    }
    let store =
        monban_server::open_store(config, &config_path.display().to_string(), &clock).await?;
    // Imported logins are history: final at once (grace zero), judged on the door events
    // already stored, with the site's calendar for `until`.
    let ingest = monban_server::ingest::Ingest::start(
        store.clone(),
        monban_server::ingest::IngestSettings {
            grace: monban_core::Span::from_millis(0),
            offset: config.offset,
        },
        clock.clone(),
    )
    .await?;
    let bar = if on_terminal {
        indicatif::ProgressBar::new(checked.rows)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} logins [{elapsed_precise}] {per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = import::run(
        spec,
        file,
        ingest.clone(),
        batch,
        |n| bar.set_position(n),
        |_| async {},
    )
    .await;
    bar.finish_and_clear();
    ingest.stop_writer().await;
    // The record of the import (who, when, which file), chained like the dashboard's
    // uploads (`monban_server::import::record`).
    let who = import::record::Importer {
        actor: "cli".into(),
        name: std::env::var("USER").unwrap_or_else(|_| "command line".into()),
        address: String::new(),
        via: "cli",
    };
    let info = import::record::FileInfo::of(file, &name)?;
    let system_id = spec.system.to_string();
    let (action, detail) = match &result {
        Ok(done) => (
            import::record::IMPORTED,
            import::record::imported_detail(&system_id, &info, "cli", done),
        ),
        Err(errors) => (
            import::record::FAILED,
            import::record::failed_detail(&system_id, &info, "cli", errors),
        ),
    };
    if let Err(e) =
        import::record::record(&store, clock.now(), &who, action, &system_id, detail).await
    {
        eprintln!("monban: the import's record could not be written: {e}");
    }
    store.close().await;
    match result {
        Err(errors) => {
            for e in &errors {
                eprintln!("{}", e.render(&name));
            }
            Ok(ExitCode::FAILURE)
        }
        Ok(done) => {
            for e in &done.refused {
                eprintln!("{}", e.render(&name));
            }
            let rows = done.imported + done.already + done.refused.len() as u64;
            print!(
                "imported {}, already stored {}",
                done.imported, done.already
            );
            if !done.refused.is_empty() {
                print!(", refused {}", done.refused.len());
            }
            println!(
                " ({rows} rows in {:.1} s, {:.0} rows/s)",
                done.seconds,
                rows as f64 / done.seconds.max(1e-9)
            );
            Ok(if done.refused.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
