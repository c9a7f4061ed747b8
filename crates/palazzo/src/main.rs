//! The `palazzo` binary: one program for every role of an installation.

mod cli;

/// mimalloc: the portal serves many small allocations per request (headers,
/// keys, spans); glibc malloc spent about 15 % of the CPU on them under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cli::run().await
}
