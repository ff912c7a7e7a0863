//! The `posthaste` command: serve (default), migrate, user management, seed.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use posthaste::config::{Config, RawSettings};
use posthaste::db;
use posthaste::startup::{self, Application};
use posthaste::users::{self, password, DisplayName, Email, NewUser, Password, Role, Username};

/// Posthaste: a self-hosted team microblog (P2-style posting box, threads, mentions).
///
/// Configuration comes from defaults, then posthaste.toml (or --config), then environment
/// variables (DATABASE_URL, POSTHASTE_*; see the README's configuration table).
#[derive(Parser)]
#[command(name = "posthaste", version, about, long_about)]
struct Cli {
    /// Configuration file (default: ./posthaste.toml if it exists, or $POSTHASTE_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default command). Migrations run first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run only the job worker (mail), e.g. on a separate node; `serve` runs one too unless
    /// POSTHASTE_WORKER=false.
    Worker,
    /// Manage members.
    #[command(subcommand)]
    User(UserCommand),
    /// Fill the database with realistic members and posts (for benchmarks and demos).
    Seed {
        /// Number of top-level posts to add.
        #[arg(long, default_value_t = 1000)]
        posts: usize,
        /// Number of members to add (password: posthaste-seed).
        #[arg(long, default_value_t = 20)]
        members: usize,
        /// Number of replies to spread over all posts, as real threads are (most have none or a
        /// few, some dozens; nested up to 6 levels).
        #[arg(long, default_value_t = 0)]
        replies: usize,
        /// Then give each of the 20 newest posts this many more replies (a busy front page, for
        /// benchmarks), nested up to 5 levels.
        #[arg(long, default_value_t = 0)]
        busy_front: usize,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a member (or an admin with --admin).
    Add {
        /// Login name: 2–30 of a-z, 0-9, _.
        #[arg(long)]
        username: String,
        /// Email address.
        #[arg(long)]
        email: String,
        /// Name shown on posts (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a member's password; ends all their sessions.
    SetPassword {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let config = match RawSettings::load(&RawSettings::figment(cli.config.as_deref())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("posthaste: {e}");
            std::process::exit(2);
        }
    };
    init_logging(&config);
    if let Err(e) = run(cli.command.unwrap_or(Command::Serve), config) {
        eprintln!("posthaste: {e:#}");
        std::process::exit(1);
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config),
        Command::Worker => {
            let pool = db::connect(&config.database, 2)?;
            let hooks = startup::prepare_hooks(&config, &pool, posthaste_app::plugins())?;
            let tick = std::time::Duration::from_millis(config.tick_ms);
            let config = std::sync::Arc::new(config);
            let renderer = std::sync::Arc::new(posthaste::render::Renderer::with_templates(
                config.theme_dir.as_deref(),
                &hooks.templates(),
            )?);
            let worker = posthaste::jobs::worker::Worker::new(
                pool.clone(),
                config,
                renderer,
                hooks.clone(),
            )?;
            actix_web::rt::System::new().block_on(async move {
                let (stop, stopped) = tokio::sync::watch::channel(false);
                let ticks = tokio::spawn(startup::run_ticks(pool, hooks, tick, stopped.clone()));
                let running = tokio::spawn(worker.run(stopped));
                shutdown_signal().await;
                let _ = stop.send(true);
                let _ = running.await;
                let _ = ticks.await;
            });
            Ok(())
        }
        Command::Migrate => {
            let pool = db::connect(&config.database, 1)?;
            // Plugins' tables too (every compiled-in plugin, on or off).
            startup::prepare_hooks(&config, &pool, posthaste_app::plugins())?;
            println!("migrations are up to date ({})", config.database.backend());
            Ok(())
        }
        Command::User(UserCommand::Add {
            username,
            email,
            display_name,
            admin,
            password_stdin,
        }) => {
            let new = NewUser {
                username: Username::parse(&username).map_err(anyhow::Error::msg)?,
                email: Email::parse(&email).map_err(anyhow::Error::msg)?,
                display_name: DisplayName::parse(display_name.as_deref().unwrap_or(&username))
                    .map_err(anyhow::Error::msg)?,
                role: if admin { Role::Admin } else { Role::Member },
            };
            let pw = read_password(password_stdin)?;
            let pool = db::connect(&config.database, 1)?;
            let hooks = startup::prepare_hooks(&config, &pool, posthaste_app::plugins())?;
            let hash = password::hash(&pw)?;
            let user = users::create(&mut *pool.get()?, &hooks, &new, &hash, false)?;
            println!("created {} @{} (id {})", user.role, user.username, user.id);
            Ok(())
        }
        Command::User(UserCommand::SetPassword {
            username,
            password_stdin,
        }) => {
            let pw = read_password(password_stdin)?;
            let pool = db::connect(&config.database, 1)?;
            let mut conn = pool.get()?;
            let user = users::find_by_login(&mut conn, &username)?
                .ok_or_else(|| anyhow::anyhow!("no member named {username}"))?;
            users::set_password_hash(&mut conn, user.user_id(), &password::hash(&pw)?)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "password changed for @{}; their sessions were ended",
                user.username
            );
            Ok(())
        }
        Command::Seed {
            posts,
            members,
            replies,
            busy_front,
        } => {
            let pool = db::connect(&config.database, 1)?;
            let mut conn = pool.get()?;
            let (m, p) = posthaste::seed::run(&mut conn, posts, members)?;
            let r = if replies > 0 {
                posthaste::seed::replies(&mut conn, replies)?
            } else {
                0
            };
            if busy_front > 0 {
                posthaste::seed::threads(
                    &mut conn,
                    posthaste::posts::PAGE_SIZE as usize,
                    busy_front,
                    5,
                )?;
            }
            println!("added {m} members, {p} posts and {r} replies");
            Ok(())
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.addr;
    let backend = config.database.backend();
    let public = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config, posthaste_app::plugins())?;
        tracing::info!(%addr, database = backend, "Posthaste is listening: open {public}");
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn read_password(from_stdin: bool) -> anyhow::Result<Password> {
    let raw = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let a = rpassword::prompt_password("Password: ")?;
        let b = rpassword::prompt_password("Repeat password: ")?;
        anyhow::ensure!(a == b, "the passwords do not match");
        a
    };
    Password::parse(&raw).map_err(anyhow::Error::msg)
}
