//! The `jira-mcp` binary: parses the command line, reads the configuration,
//! and starts the requested mode. All logic lives in the library.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jira_mcp::{Config, JiraMcp, emulator, server, telemetry};

/// MCP server for Jira Cloud. With no subcommand it serves MCP over stdio.
#[derive(Debug, Parser)]
#[command(name = "jira-mcp", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP over stdio (the default), or over streamable HTTP with --http.
    Serve {
        /// Serve streamable HTTP at ADDR (default: JIRA_MCP_HTTP_ADDR or 127.0.0.1:8808) instead of stdio.
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
        http: Option<String>,
    },
    /// Serve MCP against a built-in demo Jira (no credentials needed); stdio unless --http.
    Demo {
        /// Serve streamable HTTP at ADDR instead of stdio (needs JIRA_MCP_HTTP_TOKEN).
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
        http: Option<String>,
    },
    /// Check the configuration, the Jira credentials and the sandbox host.
    Doctor {
        /// Also fail (exit 1) when run_python's sandbox is not ready.
        #[arg(long)]
        require_sandbox: bool,
    },
    /// Run only the built-in Jira emulator on 127.0.0.1 (for benchmarks and trying clients).
    Emulator {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8089)]
        port: u16,
        /// Answer 429 above this many requests per second.
        #[arg(long)]
        burst: Option<u32>,
    },
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The HTTP settings when `--http` was given; a config error ends the process like any other.
fn http_config(http: Option<&String>) -> Result<Option<server::http::HttpConfig>, String> {
    let Some(addr) = http else { return Ok(None) };
    let addr = Some(addr.as_str()).filter(|a| !a.is_empty());
    server::http::HttpConfig::from_lookup(addr, &env_lookup).map(Some).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    // Config errors are the user's to fix: one clear line, exit 2, nothing half-started.
    let config = match &cli.command {
        None | Some(Command::Serve { .. }) => match Config::from_lookup(&env_lookup) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("jira-mcp: configuration error: {e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let http = match &cli.command {
        Some(Command::Serve { http } | Command::Demo { http }) => match http_config(http.as_ref()) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("jira-mcp: configuration error: {e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    // stdio serves one client: one thread is plenty and keeps memory low. HTTP uses both cores.
    let runtime = if http.is_some() {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("jira-mcp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config, http)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jira-mcp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(server: JiraMcp, http: Option<server::http::HttpConfig>) -> anyhow::Result<()> {
    match http {
        Some(http) => server::http::serve(server, http).await?,
        None => server::stdio::serve(server).await?,
    }
    Ok(())
}

async fn run(
    command: Option<Command>,
    config: Option<Config>,
    http: Option<server::http::HttpConfig>,
) -> anyhow::Result<ExitCode> {
    match (command, config) {
        (None | Some(Command::Serve { .. }), Some(config)) => {
            serve(JiraMcp::new(&config)?, http).await?;
            Ok(ExitCode::SUCCESS)
        }
        (Some(Command::Demo { .. }), _) => {
            let emu = emulator::Emulator::start(emulator::EmulatorConfig::default())
                .await
                .context("cannot start the demo Jira")?;
            let mut config = Config::with_jira(jira_mcp::demo_jira_config(emu.url()));
            config.apply_common(&env_lookup).context("configuration error")?;
            tracing::info!(url = %emu.url(), "demo Jira emulator running; try DEMO-1");
            serve(JiraMcp::new(&config)?, http).await?;
            Ok(ExitCode::SUCCESS)
        }
        (Some(Command::Doctor { require_sandbox }), _) => {
            let verdict = jira_mcp::doctor::run(&env_lookup, &mut std::io::stdout().lock()).await;
            let ok = verdict.jira_ok && (verdict.sandbox_ok || !require_sandbox);
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        (Some(Command::Emulator { port, burst }), _) => {
            let emu = emulator::Emulator::start(emulator::EmulatorConfig { burst_per_second: burst, port })
                .await
                .context("cannot start the emulator")?;
            eprintln!(
                "Jira emulator at {} (user {}, token {}); Ctrl-C stops it",
                emu.url(),
                emulator::DEMO_EMAIL,
                emulator::DEMO_TOKEN
            );
            tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
            Ok(ExitCode::SUCCESS)
        }
        (None | Some(Command::Serve { .. }), None) => Ok(ExitCode::FAILURE),
    }
}
