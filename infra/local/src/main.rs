//! `stamp-local serve | token | pull-now | rebuild | audit-verify` (spec §9).

use clap::{Parser, Subcommand};
use stamp_api::AppState;
use stamp_domain::auth::Claims;
use stamp_domain::identity::Orgnr;
use stamp_domain::ports::SystemClock;
use stamp_local::{demo, keys, token, Job, Local};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "stamp-local",
    about = "Run Stamp on this machine: the Lambda functions' handlers on an embedded store."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: std::net::SocketAddr,
        #[arg(long, default_value = ".stamp-data")]
        data: PathBuf,
        /// Load a generated company, partners and a few months of events (once).
        #[arg(long)]
        demo: bool,
    },
    /// Check every audit chain against its sealed digests: names each changed, removed
    /// or inserted entry and each removed digest; entries newer than the last seal are
    /// counted as unsealed. Asks the server at --addr if it runs, else opens --data.
    AuditVerify {
        #[arg(long, default_value = ".stamp-data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
    },
    /// Verify the archive (spec §12): every receipt's delivery, its SHA-256 and lock, and
    /// every indexed event's delivery. Prints the report (also written to the archive);
    /// exits non-zero on any mismatch.
    VerifyArchive {
        #[arg(long, default_value = ".stamp-data")]
        data: PathBuf,
        /// Only this company's deliveries and events (organisationsnummer).
        #[arg(long)]
        company: Option<String>,
    },
    /// Print a bearer token that a server on the same data directory accepts.
    Token {
        #[arg(long, default_value = ".stamp-data")]
        data: PathBuf,
        /// operator, company_admin, company_user, partner or employee (repeatable).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long = "company")]
        companies: Vec<String>,
        #[arg(long)]
        partner: Option<String>,
        #[arg(long = "person-id")]
        person_id: Option<String>,
        /// Defaults to `local-<first role>`.
        #[arg(long)]
        sub: Option<String>,
        #[arg(long, default_value_t = 12)]
        ttl_hours: i64,
    },
    /// Print the OpenAPI 3.1 document (`> docs/openapi.json` keeps the checked-in copy).
    Openapi,
    /// Run one pull round now: every activated company's feeds (spec §5 Pull).
    PullNow {
        #[arg(long, default_value = ".stamp-data")]
        data: PathBuf,
    },
    /// Rebuild a company's index from the archive. With --check, rebuild it into a
    /// scratch store and compare it item by item with the live index instead.
    Rebuild {
        #[arg(long, default_value = ".stamp-data")]
        data: PathBuf,
        /// The company's organisationsnummer.
        #[arg(long)]
        company: String,
        /// Compare a rebuilt copy with the live index; change nothing.
        #[arg(long)]
        check: bool,
        /// Work on the deployment that TABLE_NAME, ARCHIVE_BUCKET and PSEUDONYM_KEY
        /// (and the AWS credentials) in the environment name, instead of --data.
        #[arg(long)]
        aws: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    stamp_api::telemetry::init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stamp-local: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            addr,
            data,
            demo: load_demo,
        } => {
            let local = Local::open(&data)?;
            // Kept alive while the server runs.
            let mut _feed = None;
            if load_demo {
                let summary = demo::load(&local.state).await?;
                println!("{summary}");
                // Checked once, so the portal's archive-check page has a report to show.
                match stamp_api::jobs::verify_archive(&local.state, None).await {
                    Ok(r) => println!(
                        "demo: archive verified ({} receipts, {} mismatches)",
                        r.receipts,
                        r.mismatches.len()
                    ),
                    Err(e) => eprintln!("demo: archive verification failed: {e}"),
                }
                let sim = demo::start_feed(&local.state).await?;
                println!(
                    "demo: partner {} pulls from a simulated feed at {}",
                    demo::DEMO_FEED_PARTNER,
                    sim.url
                );
                _feed = Some(sim);
            }
            stamp_local::serve(local, addr).await?;
        }
        Command::AuditVerify { data, addr } => {
            let reports = stamp_local::verify_audit(&data, &addr).await?;
            let mut broken = 0;
            for r in &reports {
                println!(
                    "{}: {} digests, {} entries sealed, {} not yet sealed, {}",
                    r.chain,
                    r.digests,
                    r.sealed,
                    r.unsealed,
                    if r.problems.is_empty() {
                        "intact".to_string()
                    } else {
                        format!("{} problems", r.problems.len())
                    }
                );
                for p in &r.problems {
                    println!("  {p}");
                }
                broken += r.problems.len();
            }
            if broken > 0 {
                return Err(format!("audit log: {broken} problems").into());
            }
            println!("audit log intact: {} chains", reports.len());
        }
        Command::VerifyArchive { data, company } => {
            let local = Local::open(&data)?;
            let company = company
                .as_deref()
                .map(stamp_domain::identity::Orgnr::parse)
                .transpose()
                .map_err(|e| format!("--company: {e}"))?;
            let report = stamp_api::jobs::verify_archive(&local.state, company.as_ref()).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.ok {
                return Err(format!(
                    "archive verification found {} mismatch(es)",
                    report.mismatches.len()
                )
                .into());
            }
        }
        Command::Token {
            data,
            roles,
            companies,
            partner,
            person_id,
            sub,
            ttl_hours,
        } => {
            for r in &roles {
                if stamp_domain::auth::Role::parse(r).is_none() {
                    return Err(format!("unknown role {r:?}: operator, company_admin, company_user, partner or employee").into());
                }
            }
            let key = keys::load_or_create(&data, keys::SIGNING_KEY)?;
            let claims = Claims {
                sub: sub.unwrap_or_else(|| format!("local-{}", roles[0])),
                roles,
                companies,
                partner_id: partner,
                person_id,
            };
            println!(
                "{}",
                token::mint(&key, &claims, chrono::Duration::hours(ttl_hours))?
            );
        }
        Command::Openapi => {
            print!("{}", stamp_api::openapi::document_text());
        }
        Command::PullNow { data } => {
            let local = Local::open(&data)?;
            let summary = Job::Pull.run(&local.state).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        Command::Rebuild {
            data,
            company,
            check,
            aws,
        } => {
            let orgnr = Orgnr::parse(&company).map_err(|e| format!("--company: {e}"))?;
            let live = if aws {
                let ports = stamp_adapters::deployment::ports_from_env().await?;
                AppState::new(
                    ports.store.clone(),
                    ports.archive_port(),
                    ports.pseudonym_key.clone(),
                    Arc::new(SystemClock),
                )
            } else {
                Local::open(&data)?.state
            };
            rebuild(&live, &orgnr, check).await?;
        }
    }
    Ok(())
}

async fn rebuild(
    live: &AppState,
    orgnr: &Orgnr,
    check: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    use stamp_domain::intake::rebuild::{compare_company, copy_administration, rebuild_company};
    if !check {
        let ck = live.ledger.company_key(orgnr);
        if !live
            .ledger
            .partition(&stamp_domain::table::keys::people(&ck))
            .await?
            .is_empty()
        {
            return Err("the company's index is not empty: compare it with --check, or rebuild after it was lost".into());
        }
        let summary = rebuild_company(&live.import, orgnr).await?;
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    let scratch = tempfile::tempdir()?;
    let store = stamp_adapters::EmbeddedItemStore::open_in_dir(scratch.path())?;
    let rebuilt = AppState::new(
        Arc::new(store),
        live.import.archive().clone(),
        live.ledger.pseudonyms().clone(),
        Arc::new(SystemClock),
    );
    copy_administration(&live.ledger, &rebuilt.ledger, orgnr).await?;
    let summary = rebuild_company(&rebuilt.import, orgnr).await?;
    let diffs = compare_company(&live.ledger, &rebuilt.ledger, orgnr).await?;
    println!(
        "{}",
        serde_json::json!({ "receipts": summary.receipts, "replayed": summary.replayed, "differences": diffs.len() })
    );
    for d in diffs.iter().take(50) {
        println!("  {d}");
    }
    if diffs.is_empty() {
        println!("the rebuilt index equals the live one");
        Ok(())
    } else {
        Err(format!(
            "{} differences between the live and the rebuilt index",
            diffs.len()
        )
        .into())
    }
}
