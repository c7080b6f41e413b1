//! `stamp-local serve | token` (spec §9).

use clap::{Parser, Subcommand};
use stamp_domain::auth::Claims;
use stamp_local::{demo, keys, token, Local};
use std::path::PathBuf;
use std::process::ExitCode;

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
            if load_demo {
                let summary = demo::load(&local.state).await?;
                println!("{summary}");
            }
            stamp_local::serve(local, addr).await?;
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
    }
    Ok(())
}
