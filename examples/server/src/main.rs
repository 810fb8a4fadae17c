//! `ddns-server`: serve (the default) or administer records.
//!
//! `cargo run -p ddns-server` starts a complete dynamic DNS system on this
//! machine: HTTP on 127.0.0.1:8080, DNS on 127.0.0.1:5353, records in
//! `ddns.sqlite3`, zone `example.com`. `ddns-server --help` lists the rest.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use ddns_server::cli::{Cli, Command, LogFormat, TxtCommand, Types};
use ddns_server::{RunningServer, admin};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().with_current_span(false).init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut text = format!("error: {e}");
            let mut source = std::error::Error::source(e.as_ref());
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !text.contains(&cause_text) {
                    text.push_str(&format!("\n  caused by: {cause_text}"));
                }
                source = cause.source();
            }
            eprintln!("{text}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::io::stdout().lock();
    // What needs no configuration.
    match &cli.command {
        Some(Command::Completions { shell }) => {
            // Written whole, so that a closed pipe is an error, not a panic.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "ddns-server", &mut script);
            out.write_all(&script)?;
            return Ok(());
        }
        Some(Command::Man { dir }) => {
            admin::man_pages(Cli::command(), dir.as_deref(), &mut out)?;
            return Ok(());
        }
        _ => {}
    }
    let config = ddns_server::Config::load(cli.config.as_deref())?
        .with_overrides(cli.overrides())
        .validate()?;
    let command = cli.command.unwrap_or(Command::Serve);
    match command {
        Command::Serve => {
            drop(out);
            let server = RunningServer::start(config).await?;
            notify_systemd(&[sd_notify::NotifyState::Ready]);
            wait_for_signal(&server).await;
            notify_systemd(&[sd_notify::NotifyState::Stopping]);
            server.shutdown().await;
            return Ok(());
        }
        Command::CheckConfig => {
            admin::check_config(&config, &mut out)?;
            return Ok(out.flush()?);
        }
        Command::Backup { file } => {
            admin::backup(&config, &file, &mut out)?;
            return Ok(out.flush()?);
        }
        Command::Restore { file } => {
            admin::restore(&config, &file, &mut out).await?;
            return Ok(out.flush()?);
        }
        Command::AdminToken(command) => {
            admin::admin_token(&config, command, &mut out)?;
            return Ok(out.flush()?);
        }
        _ => {}
    }
    let (admin, store) = admin::open(&config).await?;
    let mut warnings = std::io::stderr();
    match command {
        Command::Serve
        | Command::CheckConfig
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Completions { .. }
        | Command::Man { .. }
        | Command::AdminToken(_) => {}
        Command::Add(args) => admin::add(&admin, args, &mut out, &mut warnings).await?,
        Command::List { show_secrets } => admin::list(&admin, show_secrets, &mut out).await?,
        Command::Show {
            hostname,
            types,
            show_secret,
        } => admin::show(&admin, &hostname, types, show_secret, &mut out).await?,
        Command::Update(args) => admin::update(&admin, args, &mut out, &mut warnings).await?,
        Command::Lock(t) => admin::set_lock(&admin, &t.hostname, t.types, true, &mut out).await?,
        Command::Unlock(t) => {
            admin::set_lock(&admin, &t.hostname, t.types, false, &mut out).await?
        }
        Command::Remove(t) => {
            let socket = config.control_socket.as_deref();
            admin::remove(
                &admin,
                socket,
                &t.hostname,
                t.types,
                &mut out,
                &mut warnings,
            )
            .await?
        }
        Command::Txt(TxtCommand::Set(args)) => {
            let socket = config.control_socket.as_deref();
            admin::set_txt(&admin, socket, args, &mut out, &mut warnings).await?
        }
        Command::Txt(TxtCommand::Delete { name }) => {
            let socket = config.control_socket.as_deref();
            admin::remove(&admin, socket, &name, Types::Txt, &mut out, &mut warnings).await?
        }
        Command::AcmeSettings {
            hostname,
            api_url,
            dns_server,
        } => {
            admin::acme_settings(
                store.as_ref(),
                &config,
                &hostname,
                api_url,
                dns_server,
                &mut out,
            )
            .await?
        }
        Command::Token {
            hostname,
            ip,
            secret,
        } => admin::token(store.as_ref(), &hostname, ip, secret, &mut out).await?,
        Command::Import(args) => admin::import(&admin, args, &mut out).await?,
        Command::Ds { zone } => admin::ds(&config, zone.as_deref(), &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// Tells systemd (`Type=notify`) the server's state; nothing without
/// `NOTIFY_SOCKET`.
fn notify_systemd(state: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::warn!(error = %e, "could not notify systemd");
    }
}

/// Returns on SIGTERM or SIGINT; on SIGHUP reloads the TLS certificate
/// and goes on waiting.
async fn wait_for_signal(server: &RunningServer) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut hangup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            loop {
                tokio::select! {
                    _ = term.recv() => return,
                    _ = tokio::signal::ctrl_c() => return,
                    _ = hangup.recv() => match server.reload_tls() {
                        Ok(true) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                        Ok(false) => tracing::info!("SIGHUP: no [tls] configured; nothing to reload"),
                        Err(e) => tracing::error!(error = %e, "SIGHUP: TLS certificate not reloaded; the previous one stays in use"),
                    },
                }
            }
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
