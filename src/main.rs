//! The `admin-center` binary: parse the command line, run it.

use clap::Parser;

/// mimalloc rather than the system's malloc: a list query allocates and frees thousands of
/// small values (rows, GraphQL values, JSON), and glibc's allocator was 17 % of its profile
/// (BENCHMARKS.md, "Where the time went").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
