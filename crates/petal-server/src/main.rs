//! The `petal` binary.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = petal_server::cli::Cli::parse();
    match petal_server::cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("petal: {error:#}");
            ExitCode::from(2)
        }
    }
}
