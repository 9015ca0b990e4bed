//! The `admin-center` binary: parse the command line, run it.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = admin_center::cli::Cli::parse();
    match admin_center::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("admin-center: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
