//! `faultproxy --listen 127.0.0.1:18014 --upstream http://127.0.0.1:18011 --rate 0.1`:
//! forwards to DynamoDB Local or moto, answering a seeded share of requests with faults
//! (see the library). Prints its figures every 10 s and when stopped.

use clap::Parser;
use faultproxy::{Config, FaultProxy};
use std::time::Duration;

#[derive(Parser)]
#[command(about = "A fault-injecting HTTP proxy for DynamoDB Local and moto")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:18014")]
    listen: std::net::SocketAddr,
    /// http://host:port of DynamoDB Local or moto.
    #[arg(long)]
    upstream: String,
    /// Share of requests answered with a fault (0.0–1.0).
    #[arg(long, default_value_t = 0.1)]
    rate: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How long a timeout fault holds a request, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    hang_ms: u64,
    /// Share of timeouts and dropped connections forwarded before the answer is lost.
    #[arg(long, default_value_t = 0.5)]
    lost_share: f64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    let a = Args::parse();
    let mut config = Config::new(a.upstream.clone(), a.rate, a.seed);
    config.hang = Duration::from_millis(a.hang_ms);
    config.lost_share = a.lost_share;
    let proxy = FaultProxy::start(a.listen, config).await?;
    tracing::info!(listen = %proxy.addr(), upstream = %a.upstream, rate = a.rate, "faultproxy listening");
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = tick.tick() => tracing::info!(figures = %proxy.figures(), "faultproxy"),
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("faultproxy: {}", proxy.figures());
    Ok(())
}
