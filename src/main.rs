//! The `jira-mcp` binary: parses the command line, reads the configuration,
//! and starts the requested mode. All logic lives in the library.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jira_mcp::{
    Config, JiraMcp,
    audit::AuditLog,
    config::{self, Env, HttpConfig},
    emulator, server, telemetry,
};

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
    /// Response-budget telemetry: `budget report` reads the recorded history.
    Budget {
        #[command(subcommand)]
        action: BudgetAction,
    },
    /// Run only the built-in Jira emulator on 127.0.0.1 (for benchmarks and trying clients).
    Emulator {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8089)]
        port: u16,
        /// Answer 429 above this many requests per second.
        #[arg(long)]
        burst: Option<u32>,
        /// Add this many generated issues (long descriptions, comment threads) to the demo site.
        #[arg(long, default_value_t = 0)]
        issues: usize,
        /// Hold every write this many milliseconds before handling it (a slow site; tests).
        #[arg(long, value_name = "MS", default_value_t = 0)]
        write_delay_ms: u64,
    },
}

#[derive(Debug, Subcommand)]
enum BudgetAction {
    /// Per-tool tokens, how often each cap cut and was followed up, errors, and recommended caps.
    Report {
        /// How far back: 7d, 24h, or a date (2026-11-01).
        #[arg(long, default_value = "7d")]
        since: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Count o200k_base tokens as telemetry does: a JSON array of strings on stdin, their counts on stdout
    /// (the benchmark scripts count another server's output the same way).
    Count,
}

/// `7d`, `24h`, `90m` ago, or a date (UTC midnight), as Unix milliseconds.
fn since_ms(text: &str) -> Result<i64, config::Error> {
    let bad = || config::Error::Invalid {
        var: "--since",
        problem: format!("{text:?} is not a duration like 7d, 24h or 90m, or a date like 2026-11-01"),
    };
    let now = chrono::Utc::now();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|d| d.and_utc().timestamp_millis()).ok_or_else(bad);
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let minutes = match unit {
        "d" => n * 1440,
        "h" => n * 60,
        "m" => n,
        _ => return Err(bad()),
    };
    Ok(now.timestamp_millis() - minutes * 60_000)
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// What to run, with its configuration read and validated before anything starts.
#[derive(Debug)]
enum Plan {
    /// MCP against the configured Jira (stdio, or HTTP when set).
    Serve { config: Config, http: Option<HttpConfig> },
    /// MCP against the built-in emulator; its URL is filled in once it listens.
    Demo { config: Config, http: Option<HttpConfig> },
    /// The checks; they report configuration problems instead of failing on them.
    Doctor { require_sandbox: bool },
    /// Only the emulator.
    Emulator { port: u16, burst: Option<u32>, extra_issues: usize, write_delay_ms: u64 },
    /// Token counts of the texts on stdin.
    BudgetCount,
    /// The telemetry report.
    BudgetReport {
        settings: jira_mcp::budget::Settings,
        tunables: jira_mcp::limits::Tunables,
        since: String,
        since_ms: i64,
        json: bool,
    },
}

/// Reads every variable the mode needs, the same way for every mode.
fn plan(command: Option<Command>, env: &Env<'_>) -> Result<Plan, config::Error> {
    let http = |flag: Option<String>| flag.map(|addr| HttpConfig::from_env(Some(&addr), env)).transpose();
    Ok(match command.unwrap_or(Command::Serve { http: None }) {
        Command::Serve { http: flag } => Plan::Serve { config: Config::serve(env)?, http: http(flag)? },
        Command::Demo { http: flag } => Plan::Demo { config: Config::demo(env)?, http: http(flag)? },
        Command::Doctor { require_sandbox } => Plan::Doctor { require_sandbox },
        Command::Emulator { port, burst, issues, write_delay_ms } => {
            Plan::Emulator { port, burst, extra_issues: issues, write_delay_ms }
        }
        Command::Budget { action: BudgetAction::Count } => Plan::BudgetCount,
        Command::Budget { action: BudgetAction::Report { since, json } } => Plan::BudgetReport {
            settings: config::telemetry_from_env(env)?,
            tunables: config::tunables_from_env(env)?,
            since_ms: since_ms(&since)?,
            since,
            json,
        },
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    // Config errors are the user's to fix: one clear line, exit 2, nothing half-started.
    let plan = match plan(cli.command, &Env::new(&env_lookup)) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("jira-mcp: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    // stdio serves one client: one thread is plenty and keeps memory low. HTTP uses both cores.
    let multi_thread = matches!(&plan, Plan::Serve { http: Some(_), .. } | Plan::Demo { http: Some(_), .. });
    let runtime = if multi_thread {
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
    let code = match runtime.block_on(run(plan)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jira-mcp: {e:#}");
            ExitCode::FAILURE
        }
    };
    // A pending stdin read cannot be cancelled; waiting for it would keep a stopped
    // stdio server alive until the client closes the pipe.
    runtime.shutdown_background();
    code
}

async fn serve(server: JiraMcp, http: Option<HttpConfig>) -> anyhow::Result<()> {
    let telemetry = server.clone();
    match http {
        Some(http) => server::http::serve(server, http).await?,
        None => server::stdio::serve(server).await?,
    }
    // Calls recorded just before the stop are written, not dropped.
    telemetry.flush_budget();
    Ok(())
}

async fn run(plan: Plan) -> anyhow::Result<ExitCode> {
    match plan {
        Plan::Serve { config, http } => {
            serve(
                JiraMcp::new(&config)?.with_audit(AuditLog::open(&config.audit)?).hide_unpermitted_tools().await,
                http,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Plan::Demo { mut config, http } => {
            let emu = emulator::Emulator::start(emulator::EmulatorConfig::default())
                .await
                .context("cannot start the demo Jira")?;
            config.jira.base_url = emu.url();
            tracing::info!(url = %emu.url(), "demo Jira emulator running; try DEMO-1");
            serve(
                JiraMcp::new(&config)?.with_audit(AuditLog::open(&config.audit)?).hide_unpermitted_tools().await,
                http,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Plan::Doctor { require_sandbox } => {
            let verdict = jira_mcp::doctor::run(&Env::new(&env_lookup), &mut std::io::stdout().lock()).await;
            let ok = verdict.jira_ok && (verdict.sandbox_ok || !require_sandbox);
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Plan::BudgetCount => {
            use std::io::{Read as _, Write as _};
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let texts: Vec<String> =
                serde_json::from_str(&input).context("budget count reads a JSON array of strings on stdin")?;
            let counts: Vec<u64> = texts.iter().map(|t| jira_mcp::budget::count_tokens(t)).collect();
            writeln!(std::io::stdout().lock(), "{}", serde_json::to_string(&counts)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Plan::BudgetReport { settings, tunables, since, since_ms, json } => {
            use std::io::Write as _;
            if !settings.path.exists() {
                anyhow::bail!(
                    "no telemetry at {} yet: it is written while the server runs (JIRA_MCP_TELEMETRY, \
                     JIRA_MCP_TELEMETRY_DB)",
                    settings.path.display()
                );
            }
            let report = jira_mcp::budget::report::from_database(&settings.path, since_ms, &tunables)?;
            let text = if json {
                serde_json::to_string_pretty(&report)?
            } else {
                jira_mcp::budget::report::render(&report, &since)
            };
            writeln!(std::io::stdout().lock(), "{text}")?;
            Ok(ExitCode::SUCCESS)
        }
        Plan::Emulator { port, burst, extra_issues, write_delay_ms } => {
            let emu = emulator::Emulator::start(emulator::EmulatorConfig {
                burst_per_second: burst,
                port,
                extra_issues,
                write_delay_ms,
            })
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
    }
}
