//! `partner-sim`: serve a simulated partner's feed on its own.
//!
//! ```sh
//! cargo run -p partner-sim -- --addr 127.0.0.1:4100 --company 5569999997:"Demobygg Sverige AB"
//! curl 'http://127.0.0.1:4100/companies/5569999997/events?limit=2'
//! ```

use chrono::NaiveDate;
use clap::Parser;
use partner_sim::{SimConfig, SimHandle};

#[derive(Parser)]
#[command(
    name = "partner-sim",
    about = "Serve a simulated partner's pull feed (spec §5) from generated data."
)]
struct Cli {
    #[arg(long, default_value = "127.0.0.1:4100")]
    addr: std::net::SocketAddr,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// `ORGNR[:NAME]`, repeatable.
    #[arg(long = "company")]
    companies: Vec<String>,
    #[arg(long, default_value_t = 10)]
    people: usize,
    #[arg(long, default_value_t = 2)]
    sites: usize,
    #[arg(long, default_value_t = 21)]
    days: u32,
    /// The last day of history (YYYY-MM-DD); default 2026-03-31.
    #[arg(long)]
    end: Option<NaiveDate>,
    #[arg(long, default_value = "sim")]
    prefix: String,
    /// Answer HTTP 500 from this page on.
    #[arg(long)]
    fail_from_page: Option<usize>,
    /// Answer HTTP 500 to the first N requests of every page.
    #[arg(long, default_value_t = 0)]
    fail_first_attempts: u32,
    /// Answer this page with a malformed body (repeatable).
    #[arg(long = "malformed-page")]
    malformed_pages: Vec<usize>,
    /// Wait this many milliseconds before every page.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let mut cfg = SimConfig {
        seed: cli.seed,
        people: cli.people,
        sites: cli.sites,
        days: cli.days,
        prefix: cli.prefix,
        ..Default::default()
    };
    if let Some(end) = cli.end {
        cfg.end = end;
    }
    if !cli.companies.is_empty() {
        cfg.companies = cli
            .companies
            .iter()
            .map(|c| match c.split_once(':') {
                Some((o, n)) => (o.to_string(), n.to_string()),
                None => (c.clone(), "Simulerat Bygg AB".to_string()),
            })
            .collect();
    }
    let sim = SimHandle::start_on(&cfg, cli.addr).await?;
    sim.set(|s| {
        s.fail_from_page = cli.fail_from_page;
        s.fail_first_attempts = cli.fail_first_attempts;
        s.malformed_pages = cli.malformed_pages.into_iter().collect();
        s.delay = std::time::Duration::from_millis(cli.delay_ms);
    });
    for (orgnr, _) in &cfg.companies {
        println!(
            "{}/companies/{orgnr}/events  ({} events)",
            sim.url,
            sim.events(orgnr).len()
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}
