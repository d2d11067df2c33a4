//! The command line: `petal serve | demo | worker | migrate | org create | audit verify | audit
//! export | audit checkpoint | retention run | keys …`.

use crate::app::{Opening, Resources, open_database};
use crate::audit_seals;
use crate::config::Config;
use crate::upkeep::Upkeep;
use crate::{logging, org_setup, server};
use anyhow::Context;
use clap::{Parser, Subcommand};
use petal_domain::audit::AuditContext;
use petal_domain::audit::seal::SealDocument;
use petal_domain::{Clock, Email, OrgId, OrgName, SystemClock};
use petal_storage::{OrgScope, orgs};
use std::path::PathBuf;
use std::process::ExitCode;

const ENVIRONMENT_HELP: &str = "\
Configuration (environment variables override the --config TOML file, whose keys are the same
names in lower case without the PETAL_ prefix):
  PETAL_DATA_DIR         data directory                      [default: ./petal-data]
  PETAL_LISTEN           address and port to listen on       [default: 127.0.0.1:8080]
  PETAL_PUBLIC_URL       base of invite and signed links     [default: http://<listen>]
  PETAL_DATABASE_URL     sqlite:PATH or postgres://…         [default: <data dir>/petal.db]
  PETAL_STORAGE_URL      object store: file://…, s3://bucket/prefix or gs://bucket/prefix
                                                             [default: <data dir>/objects]
  AWS_*, GOOGLE_*        object store endpoint, region and credentials (for s3:// and gs://)
  PETAL_MAX_UPLOAD_BYTES largest file in an upload, bytes    [default: 20000000]
  PETAL_MAX_UPLOAD_REQUEST_BYTES  largest upload request     [default: 200000000]
  PETAL_SIGNED_URL_TTL   lifetime of document links          [default: 15m]
  PETAL_AUDIT_RETENTION  how long audit events are kept      [default: 7y; at least 1d]
  PETAL_WORKERS          screening workers in `serve`        [default: one per core;
                                                              0 = only `petal worker`]
  PETAL_READ_TIMEOUT     longest time to read one CV         [default: 30s]
  PETAL_MASTER_KEY_FILE  master key file (0600)              [default: <data dir>/master.key,
                                                              generated on first run]
  PETAL_TLS_CERT, PETAL_TLS_KEY  PEM files; TLS 1.3 only      [default: plain HTTP]
  ANTHROPIC_API_KEY or PETAL_ANTHROPIC_API_KEY_FILE  Claude key [default: unset, no Claude]
  PETAL_ANTHROPIC_BASE_URL, PETAL_ANTHROPIC_MODEL  [default: public API, claude-sonnet-4-5]
  PETAL_OPENAI_BASE_URL, PETAL_OPENAI_MODEL  OpenAI-compatible engine [default: unset]
  PETAL_OPENAI_API_KEY or PETAL_OPENAI_API_KEY_FILE  its key  [default: unset, no key sent]
  PETAL_REMOTE_TIMEOUT, PETAL_REMOTE_BACKOFF  per request; first retry wait [default: 60s, 1s]
  PETAL_REMOTE_SAMPLES, PETAL_REMOTE_CONCURRENCY  answers per CV; CVs per organisation
                                                              at once [default: 1, 4]
  RUST_LOG               log filter                          [default: info]";

/// Petal: CV screening with evidence, encryption and a tamper-evident audit trail.
#[derive(Debug, Parser)]
#[command(name = "petal", version, after_help = ENVIRONMENT_HELP)]
pub struct Cli {
    /// Optional TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web application and API (applies migrations first).
    Serve,
    /// Serve with a fictional demo organisation: on an installation without organisations,
    /// create one (Admin, Reviewer, Viewer, a job, a few dozen generated CVs screened by the
    /// local engine), print how to sign in, then serve as `serve` does.
    Demo,
    /// Run screening workers only, without serving HTTP.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Inspect the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Apply retention now, as the server's scheduler does hourly.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Manage the master key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Purge audit events older than PETAL_AUDIT_RETENTION (leaving a signed anchor) and jobs
    /// inactive for longer than their organisation's retention_days, then checkpoint every
    /// chain; prints a JSON report. Each purge is audited (actor `cli`).
    Run,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Step one of a master key rotation: generate a new current key into the key file
    /// (keeping the previous one) and re-wrap every organisation key and the installation key
    /// under it, without rewriting any document. Prints a JSON report. Then restart the
    /// servers (or let them re-read the key file), and run `keys retire`.
    Rotate,
    /// Step two: re-wrap anything still under a previous master key, check nothing is left,
    /// and drop the previous keys from the key file. Prints a JSON report.
    Retire,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organisation and an invite for its first Admin; prints
    /// {org_id, invite_token, invite_url, expires_at} as JSON.
    Create {
        /// The organisation's name.
        #[arg(long)]
        name: String,
        /// Email address of the first Admin.
        #[arg(long)]
        admin_email: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the audit hash chain of one organisation or of all, against its signed
    /// checkpoints and anchors in the database and the object store; prints a JSON report
    /// and exits with status 1 if any event was altered, deleted, inserted or reordered.
    Verify {
        /// Only this organisation.
        #[arg(long, value_name = "ORG_ID")]
        org: Option<OrgId>,
    },
    /// Sign a checkpoint of one organisation's chain head now (the server makes one hourly),
    /// stored in the database and the object store; prints it as JSON. Audited (actor `cli`).
    Checkpoint {
        /// The organisation.
        #[arg(long, value_name = "ORG_ID")]
        org: OrgId,
    },
    /// Write one organisation's audit log to standard output, newest first, as JSON lines or
    /// CSV; the export is itself audited (actor `cli`).
    Export {
        /// The organisation.
        #[arg(long, value_name = "ORG_ID")]
        org: OrgId,
        /// `jsonl` or `csv`.
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let level =
        if matches!(cli.command, Command::Serve | Command::Worker) { "info" } else { "warn" };
    logging::init(level);
    let config = Config::load(cli.config.as_deref())?;
    for name in &config.unknown_variables {
        tracing::warn!(variable = %name, "unknown PETAL_ setting ignored; check its spelling");
    }
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Demo => crate::demo::run(config).await,
        Command::Worker => {
            server::work(&config, server::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            open_database(&config, Opening::CreateAndMigrate).await?.close().await;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Org { command: OrgCommand::Create { name, admin_email } } => {
            // Parse before opening anything, so bad input leaves no trace.
            let name = OrgName::parse(&name).context("--name")?;
            let email = Email::parse(&admin_email).context("--admin-email")?;
            let resources = Resources::open(&config, &SystemClock).await?;
            let created = org_setup::create_org_with_admin_invite(
                &resources.db,
                &SystemClock,
                &config.public_url,
                &name,
                &email,
                &AuditContext::cli(),
            )
            .await?;
            resources.db.close().await;
            println!("{}", serde_json::to_string_pretty(&created)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify { org } } => {
            verify_audit(&config, org).await
        }
        Command::Audit { command: AuditCommand::Checkpoint { org } } => {
            checkpoint_audit(&config, org).await
        }
        Command::Retention { command: RetentionCommand::Run } => run_retention(&config).await,
        Command::Audit { command: AuditCommand::Export { org, format } } => {
            let format = crate::audit_export::Format::parse(&format)
                .context("--format must be jsonl or csv")?;
            export_audit(&config, org, format).await
        }
        Command::Keys { command } => {
            let db = open_database(&config, Opening::Existing).await?;
            let (file, now) = (&config.master_key_file, SystemClock.now());
            let report = match command {
                KeysCommand::Rotate => crate::vault::rotate_master_key(&db, file, now).await,
                KeysCommand::Retire => {
                    crate::vault::retire_previous_master_keys(&db, file, now).await
                }
            };
            db.close().await;
            println!("{}", serde_json::to_string_pretty(&report?)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    server::run(&config, listener, server::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn export_audit(
    config: &Config,
    org_id: OrgId,
    format: crate::audit_export::Format,
) -> anyhow::Result<ExitCode> {
    use crate::audit_export;
    use std::io::Write;
    let db = &open_database(config, Opening::Existing).await?;
    let scope = operator_scope(db, org_id).await?;
    let mut filter = petal_storage::audit::AuditFilter::default();
    audit_export::begin(db, &scope, SystemClock.now(), &AuditContext::cli(), format, &mut filter)
        .await?;
    let mut out = std::io::stdout().lock();
    out.write_all(&format.preamble())?;
    loop {
        let records = audit_export::next_batch(db, &scope, &mut filter).await?;
        if records.is_empty() {
            break;
        }
        out.write_all(&audit_export::encode(format, records).map_err(anyhow::Error::msg)?)?;
    }
    out.flush()?;
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Opens everything upkeep needs: the database, the object store and the keys; with
/// `Opening::Existing`, only what exists.
async fn open_upkeep(config: &Config, opening: Opening) -> anyhow::Result<Upkeep> {
    let resources = match opening {
        Opening::CreateAndMigrate => Resources::open(config, &SystemClock).await?,
        Opening::Existing => Resources::open_existing(config).await?,
    };
    Ok(Upkeep::new(&resources, config.audit_retention)?)
}

/// The operator's scope for `org_id`, which must exist.
async fn operator_scope(db: &petal_storage::Database, org_id: OrgId) -> anyhow::Result<OrgScope> {
    // The operator's own scope: this is the command line, not a request.
    #[allow(clippy::disallowed_methods)]
    let scope = OrgScope::for_operator(db, org_id).await?;
    scope.with_context(|| format!("no organisation {org_id}"))
}

async fn checkpoint_audit(config: &Config, org_id: OrgId) -> anyhow::Result<ExitCode> {
    let upkeep = open_upkeep(config, Opening::CreateAndMigrate).await?;
    let scope = operator_scope(&upkeep.db, org_id).await?;
    let seal = audit_seals::checkpoint(
        &upkeep.db,
        &upkeep.objects,
        &upkeep.sealer,
        &scope,
        SystemClock.now(),
        Some(&AuditContext::cli()),
    )
    .await?
    .context("the organisation has no audit events yet")?;
    upkeep.db.close().await;
    println!("{}", serde_json::to_string_pretty(&SealDocument::from(&seal))?);
    Ok(ExitCode::SUCCESS)
}

async fn run_retention(config: &Config) -> anyhow::Result<ExitCode> {
    let upkeep = open_upkeep(config, Opening::CreateAndMigrate).await?;
    let now = SystemClock.now();
    let report = upkeep.run_retention(now, &AuditContext::cli()).await?;
    let checkpoints = upkeep.checkpoint_all(now).await?;
    upkeep.db.close().await;
    let failed = report.iter().any(|r| r.error.is_some()) || checkpoints.failed > 0;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "organisations": report,
            "checkpoints_made": checkpoints.made,
            "checkpoints_failed": checkpoints.failed,
        }))?
    );
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

async fn verify_audit(config: &Config, only: Option<OrgId>) -> anyhow::Result<ExitCode> {
    let upkeep = open_upkeep(config, Opening::Existing).await?;
    let db = &upkeep.db;
    let org_ids = match only {
        Some(id) => vec![id],
        None => orgs::list_ids(db).await?,
    };
    let mut reports = Vec::with_capacity(org_ids.len());
    let mut all_ok = true;
    for org_id in org_ids {
        let scope = operator_scope(db, org_id).await?;
        let report = audit_seals::verify(db, &upkeep.objects, &upkeep.sealer, &scope).await?;
        if let Some(bad) = &report.first_bad_event {
            all_ok = false;
            let id = bad.id.map_or_else(|| "missing".to_owned(), |id| id.to_string());
            eprintln!(
                "petal: audit chain of organisation {org_id} is broken at event {} (id {id}): {:?}",
                bad.seq, bad.reason
            );
        }
        reports.push(serde_json::json!({ "org_id": org_id, "report": report }));
    }
    db.close().await;
    println!(
        "{}",
        serde_json::to_string_pretty(
            &serde_json::json!({ "ok": all_ok, "organisations": reports })
        )?
    );
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
