//! The `witness` command line: a thin shell around the library.

use clap::Parser;
use witness_server::cli::Cli;

/// mimalloc instead of the C library's allocator: the writer thread frees every stored event's
/// strings, allocated by the threads that parsed the request, and glibc's frees across threads
/// (its arena locks and consolidation) were ~8 % of the writer's time; with mimalloc sustained
/// ingestion went from ~49.7 k to ~55.0 k events/s at 2 M (BENCHMARKS.md, session 12). SQLite
/// keeps the C library's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    witness_server::telemetry::init();
    witness_server::cli::run(cli).await
}
